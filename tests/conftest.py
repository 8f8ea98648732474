"""Shared test setup: offline hubs, no telemetry, and where the evaluation clips live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scribe.devtools import eval_dir as _eval_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")

EVAL_DIR = _eval_dir()


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """The folder of real recordings with references (../shared/eval beside the checkout)."""
    if not (EVAL_DIR / "manifest.json").exists():
        pytest.fail(f"evaluation clips not found at {EVAL_DIR}; set SCRIBE_EVAL_DIR")
    return EVAL_DIR
