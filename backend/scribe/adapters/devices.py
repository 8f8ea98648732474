"""The concrete devices adapters run on: ``cpu``, ``cuda`` or ``cuda:N``.

Which device to use (``auto``, CPU fallback) is decided once, by the composition root
(``scribe.bootstrap.resolve_device``); adapters take its answer and only check that their own
library can use it, failing with a clear ``ModelUnavailable`` when it cannot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scribe.domain.errors import ModelUnavailable

if TYPE_CHECKING:
    import torch


def parse_device(device: str) -> tuple[str, int | None]:
    """``("cpu", None)``, ``("cuda", None)`` or ``("cuda", N)``; ValueError for anything else."""
    kind, _, index = device.strip().lower().partition(":")
    if kind == "cpu" and not index:
        return "cpu", None
    if kind == "cuda" and (not index or index.isdigit()):
        return "cuda", int(index) if index else None
    raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")


def torch_device(device: str, engine: str) -> torch.device:
    """The ``torch.device`` for ``device``; ``ModelUnavailable`` when torch cannot use CUDA.

    ``engine`` names the adapter in the message ("The NeMo engine", "The pyannote diarizer").
    """
    import torch

    kind, index = parse_device(device)
    if kind == "cuda" and not torch.cuda.is_available():
        raise ModelUnavailable(
            f"{engine} was asked to run on '{device}', but this torch build ({torch.__version__}) "
            "sees no CUDA GPU. Install a CUDA build of torch and the NVIDIA driver, or set "
            "SCRIBE_DEVICE=cpu."
        )
    return torch.device(kind, index) if index is not None else torch.device(kind)
