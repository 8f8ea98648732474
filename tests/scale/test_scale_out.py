"""The scaled shape with real processes: Redis (append-only file), PostgreSQL, one `scribe serve`
API node and `scribe worker` processes (Celery), started as the README starts them, on a real
recording (jfk.flac, 11 s). Slow (models load in each worker); about two minutes on 2 cores.

The tests of this module share one cluster and run in order: each leaves two idle whisper
workers behind (the last one stops them)."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jiwer
import numpy as np
import pytest
from redis import Redis
from standardwebhooks import Webhook

from scribe.adapters.blobs.redis_blobs import RedisBlobStore
from scribe.adapters.db import Database
from scribe.adapters.db.job_store import SqlJobStore
from scribe.adapters.db.service_secrets import SqlServiceSecrets
from scribe.adapters.queue.celery_queue import TASK_NAME, celery_app
from scribe.adapters.webhooks.secret import NAME
from scribe.devtools.cluster import Cluster, Node, cluster
from scribe.domain.jobs import Job, new_job_id
from scribe.domain.options import Task
from scribe.domain.response_format import ResponseFormat
from scribe.use_cases.job_requests import request_to_dict
from scribe.use_cases.jobs import audio_key, utc_now
from scribe.use_cases.options import TranscriptionRequest
from tests.clips import load_clip
from tests.fakes import encode_wav
from tests.services import postgres_server
from tests.webhook_receiver import holding_receiver

pytestmark = pytest.mark.slow
JOBS = "/v1/audio/jobs"
LEASE = "2"  # seconds: a dead worker's job is sent again after about 3 leases
REQUEUE_AFTER = "4"  # seconds: a job whose message was lost is sent again within about 8


def _norm(text: str) -> str:
    return re.sub(r"[^a-z' ]+", " ", text.lower()).strip()


@pytest.fixture(scope="module")
def clip(eval_dir: Path) -> tuple[bytes, str]:
    return (eval_dir / "jfk.flac").read_bytes(), (eval_dir / "jfk.ref.txt").read_text()


HAS_NEMO = importlib.util.find_spec("nemo") is not None


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """An API node serving Whisper (and the tiny NeMo model when NeMo is installed), two
    Whisper workers and a NeMo worker."""
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (apt-get install redis-server; .ci/run does)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    env = {
        "SCRIBE_JOB_LEASE_SECONDS": LEASE,
        "SCRIBE_JOB_REQUEUE_AFTER_SECONDS": REQUEUE_AFTER,
        "SCRIBE_WHISPER_CPU_THREADS": "1",  # two workers on two cores
        "SCRIBE_WHISPER_BEAM_SIZE": "1",
        "SCRIBE_RATE_LIMIT_REQUESTS_PER_MINUTE": "0",  # the tests poll often
        # Long enough for any job here to finish on SIGTERM (the last test sets a short one).
        "SCRIBE_SHUTDOWN_GRACE_SECONDS": "60",
        # Callbacks to a local receiver, sent again 3 s after their sender died, signed alike
        # by every process (each with its own data directory) with the secret the database
        # keeps: no SCRIBE_WEBHOOK_SECRET.
        "SCRIBE_CALLBACK_ALLOW_PRIVATE": "true",
        "SCRIBE_WEBHOOK_TIMEOUT_SECONDS": "3",
        "SCRIBE_CALLBACK_LEASE_SECONDS": "3",
    }
    if HAS_NEMO:
        from scribe.devtools.nemo_models import build_tiny_parakeet

        tiny = build_tiny_parakeet(tmp_path_factory.mktemp("nemo"))
        env |= {"SCRIBE_ASR_ENGINE": "whisper,nemo", "SCRIBE_NEMO_MODEL": str(tiny)}
    with postgres_server() as url, cluster(url, **env) as made:
        made.start_api()
        workers = [made.start_worker("w1"), made.start_worker("w2")]
        if HAS_NEMO:
            workers.append(made.start_worker("nemo", engines="nemo"))
        for worker in workers:
            made.wait_ready(worker)
        yield made


def submit(base: str, clip: bytes, **data: str) -> str:
    response = httpx.post(
        base + JOBS, files={"file": ("jfk.flac", clip)}, data=data or None, timeout=30
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def job(base: str, job_id: str) -> dict[str, Any]:
    response = httpx.get(f"{base}{JOBS}/{job_id}", timeout=10)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def wait_for(base: str, job_id: str, statuses: set[str], seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        found = job(base, job_id)
        if found["status"] in statuses:
            return found
        assert time.monotonic() < deadline, f"job {job_id} still {found['status']}"
        time.sleep(0.2)


def ran_on(scaled: Cluster, job_id: str, seconds: float = 30) -> list[str]:
    """The nodes whose log has the job's outcome, ``job ID: completed``. Its worker writes that
    line just after the job's end is saved, so it may come a moment after the API says so."""
    deadline = time.monotonic() + seconds
    while True:
        names = [n.name for n in scaled.nodes if f"job {job_id}: completed" in n.log_text()]
        if names or time.monotonic() >= deadline:
            return names
        time.sleep(0.1)


def transcript(base: str, job_id: str) -> str:
    response = httpx.get(
        f"{base}{JOBS}/{job_id}/result", params={"response_format": "text"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.text


def runner_of(scaled: Cluster, job_id: str) -> Node:
    """The worker holding the job's lease (``name@host:pid/thread``)."""
    holder = Redis.from_url(scaled.redis.url).get(f"scribe:lease:{job_id}")
    assert holder is not None, "nobody holds the job"
    pid = int(holder.decode().split(":")[-1].split("/")[0])
    return next(n for n in scaled.nodes if n.process.pid == pid)


def test_api_node_reports_broker_database_and_workers(scaled: Cluster) -> None:
    body = httpx.get(scaled.base + "/health/ready", timeout=10).json()
    assert body["role"] == "api"
    assert body["dependencies"] == {"broker": "ok", "database": "ok"}
    engines = sorted(w["engines"][0] for w in body["workers"])
    assert engines == (["nemo"] if HAS_NEMO else []) + ["whisper", "whisper"]
    assert "Loaded Whisper" not in scaled.nodes[0].log_text()  # the API node loads no model


def test_two_workers_finish_jobs_between_them(scaled: Cluster, clip: tuple[bytes, str]) -> None:
    audio, reference = clip
    ids = [submit(scaled.base, audio) for _ in range(4)]
    for job_id in ids:
        assert wait_for(scaled.base, job_id, {"completed", "failed"})["status"] == "completed"
        assert jiwer.wer(_norm(reference), _norm(transcript(scaled.base, job_id))) < 0.1
    ran = Counter(name for i in ids for name in ran_on(scaled, i))
    assert ran["w1"] + ran["w2"] == 4 and ran["w1"] >= 1 and ran["w2"] >= 1, ran
    assert ran.get("nemo", 0) == 0  # Whisper jobs never reach the NeMo worker
    # A synchronous request waits for its job on a worker, as in the single process.
    answer = httpx.post(
        scaled.base + "/v1/audio/transcriptions",
        files={"file": ("jfk.flac", audio)},
        data={"response_format": "text"},
        timeout=120,
    )
    assert answer.status_code == 200 and "country" in answer.text
    # Usage: the background jobs' audio and the synchronous request's, though workers decoded it.
    deadline = time.monotonic() + 10
    while True:
        days = httpx.get(scaled.base + "/v1/usage", timeout=10).json()["data"]
        audio_seconds = sum(day["audio_seconds"] for day in days)
        if audio_seconds >= 5 * 11.0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert audio_seconds == pytest.approx(5 * 11.0, abs=0.5), days
    # The hourly audio budget (in Redis) was charged by the workers that decoded the audio.
    again = httpx.post(
        scaled.base + "/v1/audio/transcriptions",
        files={"file": ("jfk.flac", audio)},
        data={"response_format": "text"},
        timeout=120,
    )
    budget = int(again.headers["x-ratelimit-limit-audio-seconds"])
    left = int(again.headers["x-ratelimit-remaining-audio-seconds"])
    assert budget - left == pytest.approx(5 * 11.0, abs=2), again.headers


def test_events_stream_from_the_worker_through_the_api_node(
    scaled: Cluster, clip: tuple[bytes, str]
) -> None:
    job_id = submit(scaled.base, clip[0])
    with httpx.stream("GET", f"{scaled.base}{JOBS}/{job_id}/events", timeout=120) as stream:
        lines = [line for line in stream.iter_lines() if line.startswith(("id:", "data:"))]
    kinds = [json.loads(x.split(":", 1)[1])["type"] for x in lines if x.startswith("data:")]
    ids = [int(line.split(":", 1)[1]) for line in lines if line.startswith("id:")]
    assert kinds[-1] == "job.completed" and "job.in_progress" in kinds, kinds
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Resumed after an id: only what came later.
    middle = ids[len(ids) // 2]
    headers = {"Last-Event-ID": str(middle)}
    with httpx.stream(
        "GET", f"{scaled.base}{JOBS}/{job_id}/events", headers=headers, timeout=30
    ) as stream:
        later = [int(x.split(":", 1)[1]) for x in stream.iter_lines() if x.startswith("id:")]
    assert later and min(later) > middle
    # A streamed synchronous request: the worker's segments reach the client through Redis.
    with httpx.stream(
        "POST",
        scaled.base + "/v1/audio/transcriptions",
        files={"file": ("jfk.flac", clip[0])},
        data={"stream": "true"},
        timeout=120,
    ) as stream:
        assert stream.status_code == 200
        data = [json.loads(x[6:]) for x in stream.iter_lines() if x.startswith("data: {")]
    assert data[-1]["type"] == "transcript.text.done" and "country" in data[-1]["text"]
    assert any(d["type"] == "transcript.text.delta" for d in data)


def test_kill9_of_a_worker_mid_job_the_other_finishes_it(
    scaled: Cluster, clip: tuple[bytes, str]
) -> None:
    audio, reference = clip
    job_id = submit(scaled.base, audio)
    wait_for(scaled.base, job_id, {"in_progress"}, seconds=30)
    victim = runner_of(scaled, job_id)
    victim.kill9()
    done = wait_for(scaled.base, job_id, {"completed", "failed"}, seconds=120)
    assert done["status"] == "completed" and done["attempts"] == 2
    assert jiwer.wer(_norm(reference), _norm(transcript(scaled.base, job_id))) < 0.1
    survivor = next(n for n in scaled.nodes if n.name in ("w1", "w2") and n is not victim)
    assert survivor.name in ran_on(scaled, job_id)
    scaled.nodes.remove(victim)
    scaled.wait_ready(scaled.start_worker(victim.name))  # back to two


def test_a_callback_outlives_the_worker_that_sent_it(
    scaled: Cluster, clip: tuple[bytes, str]
) -> None:
    with holding_receiver() as receiver:
        job_id = submit(scaled.base, clip[0], callback_url=receiver.url())
        done = wait_for(scaled.base, job_id, {"completed", "failed"})
        assert done["status"] == "completed"
        deadline = time.monotonic() + 30
        while not receiver.got:  # the worker that ran it sends at once; the receiver holds it
            assert time.monotonic() < deadline, "no callback came"
            time.sleep(0.05)
        victim = next(n for n in scaled.nodes if f"job {job_id} completed" in n.log_text())
        assert victim.name != "api"
        victim.kill9()
        scaled.nodes.remove(victim)
        while len(receiver.got) < 2:  # another process sends it again once the lease lapsed
            assert time.monotonic() < deadline, "the callback was not sent again"
            time.sleep(0.05)
        while job(scaled.base, job_id)["callback"]["status"] != "delivered":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    first, second = receiver.got
    assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
    secret = SqlServiceSecrets(Database(scaled.database_url)).get(NAME)
    assert secret is not None
    event = Webhook(secret).verify(second.body, second.headers)
    assert event["type"] == "audio.job.completed" and event["data"]["id"] == job_id
    assert job(scaled.base, job_id)["callback"]["attempts"] == 2
    scaled.wait_ready(scaled.start_worker(victim.name))  # back to two


@pytest.mark.skipif(not HAS_NEMO, reason="needs the [gpu] extra (NeMo) for the tiny model")
def test_each_request_goes_to_a_worker_of_its_model(
    scaled: Cluster, clip: tuple[bytes, str]
) -> None:
    nemo_job = submit(scaled.base, clip[0], model="parakeet_tdt_tiny")
    whisper_job = submit(scaled.base, clip[0], model="whisper-base")
    for job_id in (nemo_job, whisper_job):
        assert wait_for(scaled.base, job_id, {"completed", "failed"})["status"] == "completed"
    assert "nemo" in ran_on(scaled, nemo_job)
    assert {"w1", "w2"} & set(ran_on(scaled, whisper_job))
    nemo = next(n for n in scaled.nodes if n.name == "nemo")
    assert f"job {whisper_job}" not in nemo.log_text()
    assert "country" in transcript(scaled.base, whisper_job)


def test_cancel_reaches_a_job_running_on_a_worker(scaled: Cluster, eval_dir: Path) -> None:
    # Twenty times the 30 s call (10 min): several batches of Whisper windows, so the job is
    # surely still running when the cancel lands (a cancel is seen between batches).
    samples = load_clip(eval_dir / "pyannote_sample.wav").samples
    audio = encode_wav(np.concatenate([samples] * 20))
    job_id = submit(scaled.base, audio)
    wait_for(scaled.base, job_id, {"in_progress"}, seconds=30)
    began = time.monotonic()
    response = httpx.post(f"{scaled.base}{JOBS}/{job_id}/cancel", timeout=30)
    assert response.status_code == 200
    assert wait_for(scaled.base, job_id, {"cancelled", "completed"}, 60)["status"] == "cancelled"
    # Within one batch of 8 windows on the CPU (about 10 s on 2 idle cores; CI may be slower).
    assert time.monotonic() - began < 45


def test_api_node_restart_loses_nothing(scaled: Cluster, clip: tuple[bytes, str]) -> None:
    ids = [submit(scaled.base, clip[0]) for _ in range(3)]
    api = scaled.nodes[0]
    api.kill9()
    scaled.nodes.remove(api)
    scaled.start_api()
    scaled.nodes.insert(0, scaled.nodes.pop())
    for job_id in ids:
        assert wait_for(scaled.base, job_id, {"completed", "failed"})["status"] == "completed"
        assert "country" in transcript(scaled.base, job_id)


def test_sigterm_finishes_the_running_job_and_redis_restart_loses_nothing(
    scaled: Cluster, clip: tuple[bytes, str]
) -> None:
    audio = clip[0]
    running = submit(scaled.base, audio)
    wait_for(scaled.base, running, {"in_progress"}, seconds=30)
    workers = [n for n in scaled.nodes if n.name != "api"]
    for node in workers:
        node.process.send_signal(15)  # SIGTERM: warm shutdown
    assert [node.process.wait(timeout=120) for node in workers] == [0] * len(workers)
    assert job(scaled.base, running)["status"] == "completed"  # finished before exiting
    for node in workers:
        scaled.nodes.remove(node)
    # Jobs wait in the broker with no worker; Redis restarts (its append-only file keeps them).
    waiting = [submit(scaled.base, audio) for _ in range(2)]
    scaled.redis.stop()
    scaled.redis.start()
    scaled.start_worker("w3")
    for job_id in waiting:
        assert wait_for(scaled.base, job_id, {"completed", "failed"})["status"] == "completed"
        assert "country" in transcript(scaled.base, job_id)


def test_sigterm_past_the_grace_hands_the_job_to_another_worker(
    scaled: Cluster, eval_dir: Path
) -> None:
    # One worker with a short grace runs a two-minute call (several Whisper batches).
    for node in [n for n in scaled.nodes if n.name != "api"]:
        assert node.stop(timeout=120) == 0
        scaled.nodes.remove(node)
    grace = 3
    short = scaled.start_worker("w4", SCRIBE_SHUTDOWN_GRACE_SECONDS=str(grace))
    scaled.wait_ready(short)
    samples = load_clip(eval_dir / "pyannote_sample.wav").samples
    job_id = submit(scaled.base, encode_wav(np.concatenate([samples] * 4)))
    wait_for(scaled.base, job_id, {"in_progress"}, seconds=60)
    short.process.send_signal(15)  # SIGTERM, as `docker stop` sends it
    assert short.process.wait(timeout=grace) == 0  # exits within the grace, not killed
    handed = job(scaled.base, job_id)
    assert handed["status"] == "queued" and handed["attempts"] == 0, handed
    assert "handed back" in short.log_text()
    scaled.nodes.remove(short)
    # Another worker takes the re-sent task at once (not after the broker's visibility timeout).
    scaled.wait_ready(scaled.start_worker("w5"))
    done = wait_for(scaled.base, job_id, {"completed", "failed"}, seconds=300)
    assert done["status"] == "completed" and done["attempts"] == 1


def test_a_job_whose_message_was_lost_is_sent_again_and_runs_once(
    scaled: Cluster, clip: tuple[bytes, str]
) -> None:
    # What an API node that crashed between saving a job and sending it leaves: the job and its
    # audio stored, no message in the broker. The API node's sweep sends it.
    request = TranscriptionRequest(response_format=ResponseFormat.TEXT)
    orphan = Job(
        new_job_id(),
        None,
        Task.TRANSCRIBE,
        None,
        request_to_dict(request),
        utc_now(),
        filename="jfk.flac",
    )
    redis = Redis.from_url(scaled.redis.url)
    RedisBlobStore(redis, ttl_seconds=3600).put(audio_key(orphan.id), io.BytesIO(clip[0]))
    database = Database(scaled.database_url)
    SqlJobStore(database).add(orphan)
    database.dispose()
    done = wait_for(scaled.base, orphan.id, {"completed", "failed"}, seconds=120)
    assert done["status"] == "completed" and done["attempts"] == 1
    assert done["filename"] == "jfk.flac" and "country" in transcript(scaled.base, orphan.id)
    api = next(n for n in scaled.nodes if n.name == "api")
    assert f"job {orphan.id} (queued): no message for it in the broker" in api.log_text()
    # Sent again while it already ran (a sweep that raced the first message): dropped, not run.
    app = celery_app(scaled.redis.url, visibility_timeout=3600)
    app.send_task(TASK_NAME, args=[orphan.id], queue="whisper", routing_key="whisper")
    deadline = time.monotonic() + 60
    logs = ""
    while f"job {orphan.id}: already ended" not in logs:
        assert time.monotonic() < deadline, "the second message was not taken"
        time.sleep(0.3)
        logs = "".join(n.log_text() for n in scaled.nodes if n.name != "api")
    assert job(scaled.base, orphan.id)["attempts"] == 1
