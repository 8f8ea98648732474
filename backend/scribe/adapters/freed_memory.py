"""Handing memory the process has freed back to the operating system (glibc's ``malloc_trim``).

A long transcription allocates and frees gigabytes in many threads (CAM++'s features, the
segmentation scores, Whisper's buffers). glibc keeps much of what was freed inside its per-thread
arenas for reuse, so after a one-hour recording an idle service held 2.9 GB instead of 1.5
(``research/memory.md``); ``malloc_trim(0)`` gives those pages back in a few milliseconds.
Elsewhere (musl, macOS, Windows) there is nothing to call.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The process's own symbols: glibc is loaded already, and nothing is searched for.
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # musl and other C libraries have no malloc_trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    function: Callable[[int], int] = trim
    return function


def release_freed_memory() -> bool:
    """Give the memory this process has freed back to the system; whether there was a
    ``malloc_trim`` to call and it released something."""
    trim = _malloc_trim()
    return trim is not None and bool(trim(0))
