"""Developer tools: tiny random-weight models, throwaway PostgreSQL and Redis servers and a
scaled cluster of real processes, for tests and benchmarks (no pytest import: scripts use them).

``services`` starts PostgreSQL and Redis from Debian's packages; ``cluster`` starts Redis (AOF),
`scribe serve` API nodes and `scribe worker` processes as the README does (it needs httpx, from
the ``test`` extra).

``nemo_models`` builds Parakeet-style FastConformer + TDT ``.nemo`` files and ``pyannote_models``
builds pyannote 4 diarization pipeline folders, offline, with random weights: tiny ones for the
tests (the real NeMo and pyannote loading and inference code runs on a CPU in seconds) and ones
at the real models' sizes for GPU benchmarks when the real weights are not on the machine. Their
output is meaningless but repeatable. The service never imports this package; its heavy
libraries (torch, NeMo, pyannote, sentencepiece) are imported inside the functions that use them.
"""

from __future__ import annotations

import os
from pathlib import Path

# backend/scribe/devtools/__init__.py -> the repository root, in a source checkout.
_REPO = Path(__file__).resolve().parents[3]


def eval_dir() -> Path:
    """The folder of evaluation recordings: ``SCRIBE_EVAL_DIR``, else ``../shared/eval`` beside
    the repository checkout (it may not exist; callers decide what that means)."""
    return Path(os.environ.get("SCRIBE_EVAL_DIR", _REPO.parent / "shared" / "eval"))
