"""What each loaded model is and where it runs, for readiness and metrics.

The ports do not require it: an engine or diarizer that has a ``describe()`` (``device``,
``dtype``, ``loaded``) is described by it, others by a ``device`` attribute where they have one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scribe.ports.asr_engine import AsrEngine
from scribe.ports.diarizer import Diarizer


@dataclass(frozen=True)
class ModelInfo:
    """One model: its id, role (``asr`` or ``diarizer``), device (``cpu``, ``cuda:0``), dtype
    (``int8``, ``float16``...; None when unknown) and whether it is loaded."""

    name: str
    role: str
    device: str | None
    dtype: str | None
    loaded: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "device": self.device, "dtype": self.dtype}


def model_info(model: AsrEngine | Diarizer, role: str, *, ready: bool) -> ModelInfo:
    """``ready``: the warm-up finished well (every model is loaded), for models that cannot
    say so themselves."""
    describe = getattr(model, "describe", None)
    found: dict[str, Any] = {}
    if callable(describe):
        try:
            found = dict(describe())
        except Exception:  # a description is never worth failing readiness for
            found = {}
    device = found.get("device") or getattr(model, "device", None)
    dtype = found.get("dtype")
    loaded = found.get("loaded")
    if loaded is None:
        loaded = bool(found) or ready
    return ModelInfo(
        name=model.name,
        role=role,
        device=_device(device),
        dtype=str(dtype).removeprefix("torch.") if dtype else None,
        loaded=bool(loaded),
    )


def _device(device: object) -> str | None:
    if not device:
        return None
    text = str(device)
    return "cuda:0" if text == "cuda" else text  # the device "cuda" means is the first GPU


def models_info(
    engines: list[AsrEngine], diarizer: Diarizer | None, *, ready: bool
) -> list[ModelInfo]:
    found = [model_info(e, "asr", ready=ready) for e in engines]
    if diarizer is not None:
        found.append(model_info(diarizer, "diarizer", ready=ready))
    return found
