"""Handing freed memory back to the system: the process really shrinks (glibc, Linux)."""

import subprocess
import sys

import pytest

from scribe.adapters.freed_memory import _malloc_trim

pytestmark = pytest.mark.skipif(
    _malloc_trim() is None, reason="malloc_trim is glibc's (Linux); elsewhere it is a no-op"
)

# Fills the heap with 1 kB buffers (above pymalloc's 512 bytes, so malloc's own), frees all
# but every 50th, so that the heap cannot shrink from its top, and prints the resident memory
# before and after one release.
_CHILD = """
import os
from scribe.adapters.freed_memory import release_freed_memory

def resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

held = [bytes(1000) for _ in range(300_000)]
kept = held[::50]
del held
before = resident_mb()
released = release_freed_memory()
print(before, resident_mb(), released)
"""


def test_freed_heap_memory_goes_back_to_the_system() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True
    ).stdout
    before, after, released = out.split()
    assert released == "True"
    # 300 MB were allocated and 294 MB freed between the 6 MB still held.
    assert float(before) - float(after) > 150, out
