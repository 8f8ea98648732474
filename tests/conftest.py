"""Shared test setup: offline hubs, no telemetry, and where the evaluation clips live."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scribe.devtools import eval_dir as _eval_dir
from scribe.use_cases.job_runner import JobRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
# Tests never read or write the user's database, keys or rate-limit store: a fresh data
# directory per run (servers the tests start inherit it).
os.environ["SCRIBE_DATA_DIR"] = tempfile.mkdtemp(prefix="scribe-test-data-")
for _name in ("SCRIBE_DATABASE_URL", "SCRIBE_REDIS_URL", "SCRIBE_AUTH"):
    os.environ.pop(_name, None)

EVAL_DIR = _eval_dir()


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """The folder of real recordings with references (../shared/eval beside the checkout)."""
    if not (EVAL_DIR / "manifest.json").exists():
        pytest.fail(f"evaluation clips not found at {EVAL_DIR}; set SCRIBE_EVAL_DIR")
    return EVAL_DIR


@pytest.fixture(autouse=True)
def _runners_and_log_handlers_end_with_the_test(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Job runners a test started stop when it ends, and logging handlers it added (the CLI's,
    run in process) go: a runner's threads would otherwise go on logging after pytest closed the
    test's output, through a handler that still writes to it ("Logging error ... I/O operation on
    closed file"). A runner starts in an app's lifespan, or in the first request of an app
    without one (a TestClient used without ``with``), or in the test itself."""
    started: list[JobRunner] = []
    start = JobRunner.start

    def recorded(runner: JobRunner) -> None:
        if not runner.running:  # (one a wider fixture started is that fixture's to stop)
            started.append(runner)
        start(runner)

    monkeypatch.setattr(JobRunner, "start", recorded)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for runner in started:
        runner.stop(timeout=5)
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
