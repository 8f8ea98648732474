"""Jobs against a real `scribe serve` (real engines, real recordings): a job survives `kill -9`
of the server and completes with the right transcript after a restart; cancel stops a running
job within seconds; event streams are in order and end with the outcome."""

from __future__ import annotations

import io
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from scribe.evaluation import word_error_rate
from tests.clips import load_clip
from tests.e2e.conftest import Server
from tests.e2e.serving import start_serve, stop
from tests.fakes import encode_wav
from tests.services import free_port

pytestmark = pytest.mark.slow
JOBS = "/v1/audio/jobs"


def _start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        "SCRIBE_PORT": str(port),
        "SCRIBE_DEVICE": "cpu",
        "SCRIBE_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "SCRIBE_RATE_LIMIT_REQUESTS_PER_MINUTE": "0",  # this test polls often
    }
    return start_serve(env, log)


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[Any]:
    processes: list[subprocess.Popen[bytes]] = []
    port = free_port()
    log = tmp_path / "server.log"

    def start() -> str:
        processes.append(_start(tmp_path / "data", port, log))
        return f"http://127.0.0.1:{port}"

    start.processes = processes  # type: ignore[attr-defined]
    start.log = log  # type: ignore[attr-defined]
    yield start
    for process in processes:
        stop(process)


def _call(eval_dir: Path, times: int) -> bytes:
    samples = load_clip(eval_dir / "pyannote_sample.wav").samples
    return encode_wav(np.concatenate([samples] * times))


def _submit(base: str, audio: bytes, **data: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}{JOBS}", files={"file": ("call.wav", io.BytesIO(audio))}, data=data, timeout=60
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def _poll(base: str, job_id: str, until: Any, timeout: float, every: float = 0.2) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{base}{JOBS}/{job_id}", timeout=10)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if until(job):
            return job
        time.sleep(every)
    raise AssertionError(f"job {job_id} never got there: {job}")


def test_a_job_survives_kill_9_and_completes_after_a_restart(
    restartable: Any, eval_dir: Path
) -> None:
    base = restartable()
    reference = (eval_dir / "pyannote_sample.ref.txt").read_text().strip()
    job = _submit(base, _call(eval_dir, 2), response_format="verbose_json")
    _poll(
        base,
        job["id"],
        lambda j: j["status"] == "in_progress" and j["progress"]["stage"] == "transcribing",
        timeout=120,
    )
    restartable.processes[0].kill()  # SIGKILL: no shutdown, no cleanup
    restartable.processes[0].wait(timeout=10)

    base = restartable()
    done = _poll(base, job["id"], lambda j: j["status"] in ("completed", "failed"), timeout=600)
    assert done["status"] == "completed", done
    assert done["attempts"] == 2 and done["usage"]["seconds"] == pytest.approx(60, abs=0.5)
    result = httpx.get(f"{base}{JOBS}/{job['id']}/result", timeout=30).json()
    assert result["duration"] == pytest.approx(60, abs=0.5)
    score = word_error_rate(f"{reference} {reference}", result["text"])
    assert score.wer < 0.35, (score, result["text"])
    assert "queued again" in restartable.log.read_text()

    # The events of the first run died with it; the stream still ends with the result.
    with httpx.stream("GET", f"{base}{JOBS}/{job['id']}/events", timeout=30) as response:
        blocks = [b for b in response.read().decode().split("\n\n") if b.startswith("id:")]
    last = json.loads(blocks[-1].split("data: ", 1)[1])
    assert last["type"] == "job.completed" and last["result"]["text"] == result["text"]


def test_cancel_stops_a_running_job_within_seconds_and_its_events_end_so(
    running_server: Server, eval_dir: Path
) -> None:
    base = running_server.base
    job = _submit(base, _call(eval_dir, 4), response_format="diarized_json")
    seen: list[tuple[int, dict[str, Any]]] = []

    def follow() -> None:
        with httpx.stream("GET", f"{base}{JOBS}/{job['id']}/events", timeout=120) as response:
            for block in response.iter_text():
                for part in block.split("\n\n"):
                    if part.startswith("id:"):
                        head, data = part.split("\ndata: ", 1)
                        seen.append((int(head[4:]), json.loads(data)))

    follower = threading.Thread(target=follow)
    follower.start()
    # The shared server keeps the default limit of 60 requests a minute: poll gently.
    _poll(base, job["id"], lambda j: j["progress"]["stage"] == "transcribing", 120, every=1.5)
    time.sleep(1)
    asked = time.monotonic()
    answer = httpx.post(f"{base}{JOBS}/{job['id']}/cancel", timeout=30)
    assert answer.status_code == 200 and answer.json()["status"] in ("cancelled", "in_progress")
    # The work stops at its next safe point: the next decoded Whisper window (a few seconds on
    # two idle cores; a minute was seen with the machine loaded four times over). The bound in
    # seconds is asserted with scripted engines in tests/api/test_jobs_api.py.
    final = _poll(base, job["id"], lambda j: j["status"] != "in_progress", 150, every=1.5)
    assert final["status"] == "cancelled" and final["finished_at"] is not None
    print(f"cancel took {time.monotonic() - asked:.1f} s")
    follower.join(timeout=30)
    assert not follower.is_alive()
    ids = [i for i, _ in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert seen[0][1]["type"] == "job.in_progress" and seen[-1][1]["type"] == "job.cancelled"
    assert any(e["type"] == "job.progress" for _, e in seen)
    assert "transcription cancelled: The job was cancelled." in running_server.log_text()
