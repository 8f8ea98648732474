"""Build random-weight pyannote.audio 4 speaker-diarization pipelines offline.

``build_pyannote_pipeline(folder, size)`` writes the same layout as a downloaded
``pyannote/speaker-diarization-community-1``::

    folder/config.yaml                     SpeakerDiarization, VBx clustering, "$model/..." paths
    folder/segmentation/pytorch_model.bin  PyanNet (powerset, 3 speakers, 2 at once)
    folder/embedding/pytorch_model.bin     WeSpeakerResNet34
    folder/plda/xvec_transform.npz         random but valid LDA transform  (mean1, mean2, lda)
    folder/plda/plda.npz                   random but valid PLDA           (mu, tr, psi)

so ``Pipeline.from_pretrained(folder)`` (and ``PyannoteDiarizer(pipeline=str(folder))``) loads it
through exactly the code path of a real pipeline. Checkpoints are Lightning-style dicts written
with pyannote's own ``Model.on_save_checkpoint``. Weights are random (seeded): the output is
meaningless but repeatable; test structure, not accuracy.

- ``"tiny"`` (``build_tiny_pyannote_pipeline``, for tests): a tiny LSTM segmentation model on 5 s
  windows whose classifier is scaled up and its silence and overlap classes biased down, so that
  the output has speech and speaker changes rather than one constant class; a ResNet34 on 8 mel
  bins with a 40 ms frame shift. Building takes about a second (after pyannote is imported); the
  folder is about 22 MB, most of it the ResNet34 (whose channel widths pyannote fixes).
- ``"full"`` (for GPU benchmarks without the real weights): segmentation-3.0's PyanNet (SincNet,
  4-layer bidirectional LSTM 128, 10 s windows), WeSpeaker ResNet34 (80 mel bins, 256-d), PLDA
  256->128. A random segmentation model says the same thing for every frame (one speaker
  throughout), which would halve the embedding work of a two-speaker recording; so with
  ``calibrate_with`` its classifier is pointed at standardised features of those samples (see
  ``_calibrate_segmentation``) and the share of each class goes to ``class_shares.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scribe.adapters.diarization.pyannote_diarizer import prepare_pyannote_import

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Size = Literal["tiny", "full"]

CHUNK_SECONDS = 5.0
"""The tiny pipeline's segmentation window (real pipelines use 10 s); shorter gives several
chunks on short clips."""

_SAMPLE_RATE = 16_000

_CONFIG = """\
# Random-weight pipeline ({size}) written by scribe.devtools.pyannote_models (not a real model).
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: VBxClustering
    segmentation: $model/segmentation
    segmentation_step: {step}
    segmentation_batch_size: {batch}
    embedding: $model/embedding
    embedding_batch_size: {batch}
    embedding_exclude_overlap: true
    plda: $model/plda
params:
  clustering:
    threshold: 0.6
    Fa: 0.07
    Fb: 0.8
  segmentation:
    min_duration_off: 0.0
"""

# size -> segmentation window (s), segmentation step, batch size, LDA dimension
_LAYOUT: dict[str, tuple[float, float, int, int]] = {
    "tiny": (CHUNK_SECONDS, 0.2, 8, 16),
    "full": (10.0, 0.1, 32, 128),
}

# Powerset classes of segmentation-3.0: nobody, {1}, {2}, {3}, {1,2}, {1,3}, {2,3}.
_CLASS_NAMES = ("none", "s1", "s2", "s3", "s1+s2", "s1+s3", "s2+s3")
_CLASS_OFFSETS = (0.3, 1.2, 1.2, -0.8, -0.6, -2.0, -2.0)


def build_tiny_pyannote_pipeline(folder: Path, *, seed: int = 0) -> Path:
    """Write a tiny random-weight pyannote 4 diarization pipeline into ``folder``; return it."""
    return build_pyannote_pipeline(folder, "tiny", seed=seed)


def build_pyannote_pipeline(
    folder: Path,
    size: Size = "tiny",
    *,
    seed: int = 0,
    calibrate_with: npt.NDArray[np.float32] | None = None,
) -> Path:
    """Write a random-weight pyannote 4 pipeline of ``size`` into ``folder``; return the folder.

    ``calibrate_with`` (16 kHz float32 speech) applies to ``"full"`` only (see the module note).
    """
    prepare_pyannote_import()
    import lightning
    import numpy as np
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

    window, step, batch, lda_dimension = _LAYOUT[size]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def save(model: torch.nn.Module, path: Path) -> None:
        checkpoint = {
            "state_dict": model.state_dict(),
            "hyper_parameters": dict(model.hparams),  # type: ignore[arg-type]
            "pytorch-lightning_version": lightning.__version__,
        }
        model.on_save_checkpoint(checkpoint)  # type: ignore[operator]  # adds "pyannote.audio"
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(checkpoint, path)

    shares: dict[str, float] | None = None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if size == "tiny":
            segmentation = PyanNet(
                lstm={"hidden_size": 16, "num_layers": 1},
                linear={"hidden_size": 16, "num_layers": 1},
            )
        else:
            segmentation = PyanNet(
                sincnet={"stride": 10},
                lstm={"hidden_size": 128, "num_layers": 4, "bidirectional": True, "dropout": 0.5},
                linear={"hidden_size": 128, "num_layers": 2},
            )
        segmentation.specifications = Specifications(
            problem=Problem.MONO_LABEL_CLASSIFICATION,
            resolution=Resolution.FRAME,
            duration=window,
            min_duration=window,
            warm_up=(0.0, 0.0),
            classes=["speaker#1", "speaker#2", "speaker#3"],
            powerset_max_classes=2,
            permutation_invariant=True,
        )
        segmentation.build()  # type: ignore[no-untyped-call]
        if size == "tiny":
            with torch.no_grad():
                # powerset classes: 0 nobody, 1-3 one speaker, 4-6 two at once. Larger weights
                # make the class follow the input rather than the biases; overlap is made rare.
                segmentation.classifier.weight *= 5.0
                segmentation.classifier.bias[0] -= 1.0
                segmentation.classifier.bias[4:] -= 3.0
        else:
            segmentation.eval()
            if calibrate_with is not None:
                shares = _calibrate_segmentation(segmentation, calibrate_with)
        save(segmentation, folder / "segmentation" / "pytorch_model.bin")

        if size == "tiny":
            embedding = WeSpeakerResNet34(num_mel_bins=8, frame_shift=40)
        else:
            embedding = WeSpeakerResNet34()
        embedding.specifications = Specifications(
            problem=Problem.REPRESENTATION,
            resolution=Resolution.CHUNK,
            duration=window,
            min_duration=0.5,
        )
        save(embedding, folder / "embedding" / "pytorch_model.bin")
        dimension = int(embedding.dimension)

    rng = np.random.default_rng(seed)
    plda_dir = folder / "plda"
    plda_dir.mkdir(exist_ok=True)
    np.savez(
        plda_dir / "xvec_transform.npz",
        mean1=rng.normal(size=dimension) * 0.01,
        mean2=rng.normal(size=lda_dimension) * 0.01,
        lda=rng.normal(size=(dimension, lda_dimension)) / np.sqrt(dimension),
    )
    rotation, _ = np.linalg.qr(rng.normal(size=(lda_dimension, lda_dimension)))
    np.savez(
        plda_dir / "plda.npz",
        mu=np.zeros(lda_dimension),
        tr=rotation,  # orthogonal: identity within-class covariance
        psi=np.linspace(2.0, 0.5, lda_dimension),  # positive between-class variances
    )
    if shares is not None:
        (folder / "class_shares.json").write_text(json.dumps(shares), encoding="utf-8")
    config = _CONFIG.format(size=size, step=step, batch=batch)
    (folder / "config.yaml").write_text(config, encoding="utf-8")
    return folder


def _calibrate_segmentation(model: Any, samples: npt.NDArray[np.float32]) -> dict[str, float]:
    """Point a random PyanNet's classifier at standardised features of ``samples``.

    Random projections and class offsets then give silence, two main speakers, a rare third and
    some overlap, changing over time. Returns the share of frames of each powerset class.
    """
    import numpy as np
    import torch

    window = int(10.0 * _SAMPLE_RATE)
    count = max(1, len(samples) // window)
    batch = torch.from_numpy(np.resize(samples, count * window).reshape(count, 1, window).copy())
    captured: list[Any] = []
    hook = model.classifier.register_forward_hook(lambda m, i, o: captured.append(i[0]))
    with torch.no_grad():
        model(batch)
    hook.remove()
    features = captured[0].reshape(-1, captured[0].shape[-1])
    mean = features.mean(0)
    std = features.std(0).clamp_min(1e-6)
    generator = torch.Generator().manual_seed(0)
    projection = torch.randn(model.classifier.out_features, features.shape[-1], generator=generator)
    projection *= 2.0 / np.sqrt(features.shape[-1])
    with torch.no_grad():
        model.classifier.weight.copy_(projection / std)
        offsets = torch.tensor(_CLASS_OFFSETS, dtype=mean.dtype)
        model.classifier.bias.copy_(offsets - (projection / std) @ mean)
        classes = model(batch).argmax(-1).reshape(-1)
    shares = torch.bincount(classes, minlength=len(_CLASS_OFFSETS)).double() / len(classes)
    return {n: round(float(v), 3) for n, v in zip(_CLASS_NAMES, shares, strict=True)}
