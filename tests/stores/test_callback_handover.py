"""At-least-once across processes, on SQLite and PostgreSQL: a process ends a job, starts
sending its callback and is killed before the receiver answers; another process, built by the
real composition root, sends the same event again (same ``webhook-id``, a valid signature) once
the first one's lease has run out, and the job shows it delivered."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from scribe.config import Settings
from scribe.domain.callbacks import CallbackStatus
from tests.fakes import services_on_database
from tests.webhook_receiver import HoldingReceiver, holding_receiver

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
BACKEND = Path(__file__).resolve().parents[2] / "backend"
LEASE = 2.0

# The first process: ends a job with a callback in the shared database, then delivers it.
FIRST = """
import asyncio, sys
from datetime import UTC, datetime
from scribe.adapters.db import Database
from scribe.adapters.db.callback_outbox import SqlCallbackOutbox
from scribe.adapters.db.job_store import SqlJobStore
from scribe.adapters.webhooks.sender import StandardWebhookSender
from scribe.bootstrap import describe_job
from scribe.domain.jobs import Job, JobStatus, JobUsage
from scribe.domain.options import Task
from scribe.use_cases.callback_delivery import CallbackDelivery, CallbackPolicy

url, callback_url, secret, lease = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
database = Database(url)
store = SqlJobStore(database, describe=describe_job)
now = datetime.now(UTC)
job = Job("job_handover", None, Task.TRANSCRIBE, "m", {}, now, callback_url=callback_url)
store.add(job)
running = job.start(now)
store.save(running, expect=JobStatus.QUEUED)
store.save(running.complete(datetime.now(UTC), JobUsage(1.0, 0.5)), expect=JobStatus.IN_PROGRESS)
print("ended", flush=True)
sender = StandardWebhookSender(secret, allow_private=True)
delivery = CallbackDelivery(
    SqlCallbackOutbox(database), sender, holder="first", policy=CallbackPolicy(lease_seconds=lease)
)
delivery.deliver_due()  # the receiver holds this request: the process is killed meanwhile
"""


@pytest.fixture
def receiver() -> Iterator[HoldingReceiver]:
    with holding_receiver() as state:
        yield state


def test_a_callback_survives_the_death_of_the_process_sending_it(
    database_url: str, receiver: HoldingReceiver
) -> None:
    from scribe.adapters.db import Database

    Database(database_url).upgrade()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(BACKEND), os.environ.get("PYTHONPATH", "")]),
    }
    first = subprocess.Popen(
        [sys.executable, "-c", FIRST, database_url, receiver.url(), SECRET, str(LEASE)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not receiver.got:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        first.kill()
        first.wait(10)
    killed_at = time.monotonic()

    # Another process (here: this one), as `scribe serve` builds it, on the same database.
    settings = Settings(
        database_url=database_url,
        webhook_secret=SECRET,
        callback_allow_private=True,
        callback_lease_seconds=LEASE,
        callback_poll_seconds=0.1,
        asr_engine="whisper",
        diarizer="none",
    )
    services = services_on_database(settings)
    services.runner.start()
    try:
        deadline = time.monotonic() + 20
        while len(receiver.got) < 2:
            assert time.monotonic() < deadline, "the callback was not sent again"
            time.sleep(0.02)
        job = services.jobs.get(None, "job_handover")
        while job.callback is None or job.callback.status is not CallbackStatus.DELIVERED:
            assert time.monotonic() < deadline
            time.sleep(0.05)
            job = services.jobs.get(None, "job_handover")
    finally:
        services.runner.stop()
    assert time.monotonic() - killed_at <= LEASE + 10
    first_try, second_try = receiver.got
    hook = Webhook(SECRET)
    events = [hook.verify(got.body, got.headers) for got in (first_try, second_try)]
    assert first_try.headers["webhook-id"] == second_try.headers["webhook-id"]
    assert first_try.body == second_try.body  # the same event, byte for byte
    assert events[1]["type"] == "audio.job.completed"
    data = events[1]["data"]
    assert data["id"] == "job_handover" and data["object"] == "audio.job"
    assert data["status"] == "completed" and data["callback"]["url"] == receiver.url()
    assert job.callback.attempts == 2
    assert json.loads(second_try.body)["data"] == data
