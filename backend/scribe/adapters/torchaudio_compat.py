"""torchaudio beside a torch build it was not compiled for (shared by the NeMo and pyannote adapters).

PyPI's torchaudio wheels are CUDA builds; beside CPU torch (or another CUDA version) importing
them fails while loading the native extension. NeMo and pyannote import torchaudio but use only
its pure-Python parts, so the package is imported without its extension. See
research/pyannote-on-cpu.md for the reasoning and what was tried.
"""

from __future__ import annotations

import logging
import sys
import threading
import types
from typing import Any

log = logging.getLogger(__name__)
_IMPORT_LOCK = threading.Lock()


def ensure_torchaudio_importable() -> None:
    """Import torchaudio, without its native extension when that extension cannot be loaded.

    torchaudio 2.11 on PyPI is a CUDA 13 build whose ``_torchaudio.so`` links ``libc10_cuda.so``;
    beside a CPU-only torch (or a CUDA 12 torch) loading it raises ``OSError`` and so does
    ``import torchaudio``. torchaudio supports running without its extension (its ``_load_lib``
    returns False when the library file is absent and the Python fallbacks take over), so when the
    load fails, the half-imported package is discarded and imported again with a stand-in
    ``torchaudio._extension`` that says "no extension". With a torchaudio that loads (a CUDA torch
    that matches it) this does nothing. Only features that need the extension (forced alignment,
    CUDA CTC decoding, the RNN-T loss) are unavailable; pyannote uses none of them.
    """
    with _IMPORT_LOCK:
        if "torchaudio" in sys.modules and "torchaudio._extension" in sys.modules:
            return
        try:
            import torchaudio
        except (OSError, RuntimeError) as exc:
            # OSError: the library cannot be loaded (CUDA build beside CPU torch, or missing CUDA
            # runtime); RuntimeError: torchaudio's own CUDA-version check failed.
            if "torchaudio" not in str(exc).lower():
                raise
            reason = str(exc)
        else:
            return
        log.warning(
            "torchaudio's native extension could not be loaded (%s); using torchaudio without "
            "it (pyannote needs only its pure-Python parts).",
            reason,
        )
        for name in [m for m in sys.modules if m == "torchaudio" or m.startswith("torchaudio.")]:
            del sys.modules[name]
        sys.modules["torchaudio._extension"] = _torchaudio_extension_stand_in()
        try:
            import torchaudio  # noqa: F401
        except Exception:
            sys.modules.pop("torchaudio._extension", None)
            raise


def _torchaudio_extension_stand_in() -> types.ModuleType:
    """A ``torchaudio._extension`` with the names the real one exports, reporting no extension."""

    def fail_if_no_align(func: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(
                f"{func.__module__}.{func.__name__} needs torchaudio's native extension, which "
                "could not be loaded beside this torch build."
            )

        return wrapped

    def _load_lib(lib: str) -> bool:
        return False

    def _check_cuda_version() -> None:
        return None

    module = types.ModuleType(
        "torchaudio._extension",
        "Stand-in installed by scribe: torchaudio's native extension is not available.",
    )
    module.__dict__.update(
        _IS_TORCHAUDIO_EXT_AVAILABLE=False,
        _IS_ALIGN_AVAILABLE=False,
        fail_if_no_align=fail_if_no_align,
        _load_lib=_load_lib,
        _check_cuda_version=_check_cuda_version,
        __all__=["_check_cuda_version", "_IS_TORCHAUDIO_EXT_AVAILABLE"],
    )
    return module
