"""CeleryJobQueue against a real Redis broker (no worker): each job's task lands in its engine's
queue, and the broker's queue lengths bound submissions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from redis import Redis

from scribe.adapters.queue.celery_queue import TASK_NAME, CeleryJobQueue, celery_app
from scribe.domain.errors import QueueFull


@pytest.fixture
def client(redis_url: str) -> Iterator[Redis]:
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    yield redis
    redis.close()


def test_tasks_go_to_their_engines_queue_and_the_queue_is_bounded(
    redis_url: str, client: Redis
) -> None:
    app = celery_app(redis_url, visibility_timeout=60)
    routes = {"job_w1": "whisper", "job_n1": "nemo", "job_w2": "whisper", "job_n2": "nemo"}
    queue = CeleryJobQueue(app, client, routes.__getitem__, capacity=3)
    for job_id in ("job_w1", "job_n1", "job_w2"):
        queue.put(job_id)
    assert (queue.size(), client.llen("whisper"), client.llen("nemo")) == (3, 2, 1)
    with pytest.raises(QueueFull) as full:
        queue.put("job_n2")
    assert full.value.retry_after is not None and full.value.retry_after > 0
    queue.put("job_n2", force=True)  # recovery bypasses the bound
    assert client.llen("nemo") == 2
    message = json.loads(client.lindex("nemo", -1) or b"{}")  # the first one sent
    assert message["headers"]["task"] == TASK_NAME
    assert message["headers"]["argsrepr"] == "['job_n1']"
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] == 60


def test_a_sent_job_waits_until_its_task_starts(redis_url: str, client: Redis) -> None:
    app = celery_app(redis_url, visibility_timeout=60)
    queue = CeleryJobQueue(app, client, lambda _: "whisper", capacity=3, sent_ttl_seconds=600)
    assert not queue.waiting("job_a")  # never sent (an API node died before sending it)
    queue.put("job_a")
    assert queue.waiting("job_a") and not queue.waiting("job_b")
    assert 0 < client.ttl("scribe:sent:job_a") <= 600  # it cannot outlive a lost message forever
    queue.taken("job_a")  # the worker's task started
    assert not queue.waiting("job_a")
    client.flushdb()  # Redis restarted without its append-only file: message and mark are gone
    queue.put("job_b")
    client.flushdb()
    assert not queue.waiting("job_b")
