"""Build a tiny random-weight pyannote.audio 4 speaker-diarization pipeline offline.

``build_tiny_pyannote_pipeline(folder)`` writes the same layout as a downloaded
``pyannote/speaker-diarization-community-1``::

    folder/config.yaml                     SpeakerDiarization, VBx clustering, "$model/..." paths
    folder/segmentation/pytorch_model.bin  PyanNet (powerset, 3 speakers, 2 at once), tiny LSTM
    folder/embedding/pytorch_model.bin     WeSpeakerResNet34 on 8 mel bins, 40 ms frame shift
    folder/plda/xvec_transform.npz         random but valid LDA transform  (mean1, mean2, lda)
    folder/plda/plda.npz                   random but valid PLDA           (mu, tr, psi)

so ``Pipeline.from_pretrained(folder)`` (and ``PyannoteDiarizer(pipeline=str(folder))``) loads it
through exactly the code path of a real pipeline. Checkpoints are Lightning-style dicts written
with pyannote's own ``Model.on_save_checkpoint``. Weights are random (seeded); the segmentation
classifier is scaled up and its silence and overlap classes biased down so that the output has
speech and speaker changes rather than one constant class. The output is meaningless but repeatable:
test structure, not accuracy. Building takes about a second (after pyannote is imported); the
folder is about 22 MB, most of it the ResNet34 (whose channel widths pyannote fixes).
"""

from __future__ import annotations

from pathlib import Path

from scribe.adapters.diarization.pyannote_diarizer import prepare_pyannote_import

CHUNK_SECONDS = 5.0
"""Segmentation window (real pipelines use 10 s); shorter gives several chunks on short clips."""

_CONFIG = """\
# Tiny random-weight pipeline written by tests/engines/tiny_pyannote.py (not a real model).
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: VBxClustering
    segmentation: $model/segmentation
    segmentation_step: 0.2
    segmentation_batch_size: 8
    embedding: $model/embedding
    embedding_batch_size: 8
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


def build_tiny_pyannote_pipeline(folder: Path, *, seed: int = 0) -> Path:
    """Write a tiny random-weight pyannote 4 diarization pipeline into ``folder``; return it."""
    prepare_pyannote_import()
    import lightning
    import numpy as np
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

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

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        segmentation = PyanNet(
            lstm={"hidden_size": 16, "num_layers": 1},
            linear={"hidden_size": 16, "num_layers": 1},
        )
        segmentation.specifications = Specifications(
            problem=Problem.MONO_LABEL_CLASSIFICATION,
            resolution=Resolution.FRAME,
            duration=CHUNK_SECONDS,
            min_duration=CHUNK_SECONDS,
            warm_up=(0.0, 0.0),
            classes=["speaker#1", "speaker#2", "speaker#3"],
            powerset_max_classes=2,
            permutation_invariant=True,
        )
        segmentation.build()  # type: ignore[no-untyped-call]
        with torch.no_grad():
            # powerset classes: 0 nobody, 1-3 one speaker, 4-6 two at once. Larger weights make
            # the class follow the input rather than the biases; overlap is made rare.
            segmentation.classifier.weight *= 5.0
            segmentation.classifier.bias[0] -= 1.0
            segmentation.classifier.bias[4:] -= 3.0
        save(segmentation, folder / "segmentation" / "pytorch_model.bin")

        embedding = WeSpeakerResNet34(num_mel_bins=8, frame_shift=40)
        embedding.specifications = Specifications(
            problem=Problem.REPRESENTATION,
            resolution=Resolution.CHUNK,
            duration=CHUNK_SECONDS,
            min_duration=0.5,
        )
        save(embedding, folder / "embedding" / "pytorch_model.bin")
        dimension = int(embedding.dimension)

    rng = np.random.default_rng(seed)
    lda_dimension = 16
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
    (folder / "config.yaml").write_text(_CONFIG, encoding="utf-8")
    return folder
