"""`scribe serve` as a user starts it, for the end-to-end tests: one way to start it and wait
until it is ready, and one way to stop it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from scribe.devtools.services import wait_until_ready

READY_SECONDS = 300.0  # models load at startup (Whisper base on a busy 2-core machine)


def start_serve(env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `scribe serve` with ``env`` over this process's environment (``SCRIBE_PORT``
    names its port), its output appended to ``log``; return once ``/health/ready`` answers 200.
    The test fails, with the log, when the server exits or is not ready in time."""
    settings = {**os.environ, "SCRIBE_HOST": "127.0.0.1", **env}
    base = f"http://127.0.0.1:{settings['SCRIBE_PORT']}"
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scribe.cli", "serve"],
            env=settings,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if wait_until_ready(base, process, READY_SECONDS):
        return process
    if process.poll() is not None:
        pytest.fail(f"scribe serve exited with {process.returncode}:\n{log.read_text()}")
    stop(process)
    pytest.fail(f"scribe serve did not become ready:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL after 20 s (a server that does not stop)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


@contextlib.contextmanager
def serving(env: Mapping[str, str], log: Path) -> Iterator[str]:
    """A ready `scribe serve` for the block; yields its base URL, then stops it."""
    process = start_serve(env, log)
    try:
        yield f"http://127.0.0.1:{env['SCRIBE_PORT']}"
    finally:
        stop(process)
