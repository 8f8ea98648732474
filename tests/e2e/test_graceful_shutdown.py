"""`docker stop` against a real `scribe serve`: SIGTERM in the middle of two transcriptions (a
background job and a synchronous request). The waiting client gets a 503 in OpenAI's error
shape with Retry-After instead of an empty reply, the process exits 0 within the grace although
Whisper is inside a batch, and the background job, handed back to the queue, completes after the
restart without its interrupted run counted as an attempt. The log is JSON lines throughout."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.clips import load_clip
from tests.e2e.conftest import _free_port
from tests.fakes import encode_wav

pytestmark = pytest.mark.slow
JOBS = "/v1/audio/jobs"
GRACE = 6


def _start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SCRIBE_PORT": str(port),
        "SCRIBE_HOST": "127.0.0.1",
        "SCRIBE_DEVICE": "cpu",
        "SCRIBE_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "SCRIBE_RATE_LIMIT_REQUESTS_PER_MINUTE": "0",  # this test polls often
        "SCRIBE_SHUTDOWN_GRACE_SECONDS": str(GRACE),
        # Two jobs at once on two cores, one Whisper thread each.
        "SCRIBE_MAX_CONCURRENT_JOBS": "2",
        "SCRIBE_WHISPER_CPU_THREADS": "1",
        "SCRIBE_LOG_FORMAT": "json",
    }
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scribe.cli", "serve"], env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None:
            pytest.fail(f"scribe serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"scribe serve did not become ready:\n{log.read_text()}")
        time.sleep(0.5)


def _call(eval_dir: Path, times: int) -> bytes:
    samples = load_clip(eval_dir / "pyannote_sample.wav").samples
    return encode_wav(np.concatenate([samples] * times))


def _job(base: str, job_id: str) -> dict[str, Any]:
    response = httpx.get(f"{base}{JOBS}/{job_id}", timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _running(base: str) -> int:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    line = next(x for x in text.splitlines() if x.startswith('scribe_jobs{state="in_progress"}'))
    return int(float(line.split()[-1]))


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.25)


def test_sigterm_answers_the_waiting_client_hands_back_the_job_and_exits_0(
    tmp_path: Path, eval_dir: Path
) -> None:
    port, log, data = _free_port(), tmp_path / "server.log", tmp_path / "data"
    base = f"http://127.0.0.1:{port}"
    server = _start(data, port, log)
    try:
        audio = _call(eval_dir, 4)  # two minutes: each job runs far longer than the grace
        submitted = httpx.post(
            f"{base}{JOBS}", files={"file": ("call.wav", io.BytesIO(audio))}, timeout=60
        )
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["id"]
        answer: dict[str, httpx.Response] = {}

        def wait_for_transcript() -> None:
            answer["sync"] = httpx.post(
                f"{base}/v1/audio/transcriptions",
                files={"file": ("call.wav", io.BytesIO(audio))},
                data={"model": "whisper-1"},
                timeout=120,
            )

        client = threading.Thread(target=wait_for_transcript)
        client.start()
        _wait(lambda: _running(base) == 2, 120, "both jobs running")
        _wait(
            lambda: _job(base, job_id)["progress"]["stage"] == "transcribing", 120, "transcribing"
        )
        assert _job(base, job_id)["attempts"] == 1

        server.send_signal(signal.SIGTERM)
        # Within the grace (docker's SIGKILL comes 10 s after its SIGTERM; here GRACE).
        assert server.wait(timeout=GRACE) == 0
        client.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()

    sync = answer["sync"]
    assert sync.status_code == 503, sync.text
    assert sync.json()["error"]["type"] == "service_unavailable"
    assert sync.json()["error"]["code"] == "server_shutting_down"
    assert int(sync.headers["retry-after"]) >= 1

    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == len([line for line in lines if line.strip()])  # JSON lines only
    assert any(r["job_id"] == job_id and "handed back" in r["message"] for r in records)
    assert all({"time", "level", "logger", "message", "request_id"} <= r.keys() for r in records)

    # The next start runs the handed-back job from the start; the interrupted run is not an
    # attempt that counts.
    server = _start(data, port, log)
    try:
        deadline = time.monotonic() + 600
        while (job := _job(base, job_id))["status"] not in ("completed", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(1)
        assert job["status"] == "completed", job
        assert job["attempts"] == 1
        assert job["usage"]["seconds"] == pytest.approx(120, abs=0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
