"""The Redis adapters of the scaled shape against a real redis-server: blobs with a time limit,
job events on streams (ids, resume, waiting), leases, and the worker registry."""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from redis import Redis

from scribe.adapters.blobs.redis_blobs import RedisBlobStore
from scribe.adapters.queue.redis_events import RedisJobEvents
from scribe.adapters.queue.redis_leases import RedisJobLeases, RedisWorkerRegistry
from scribe.domain.errors import NotFound
from scribe.ports.job_events import RUN_STRIDE
from scribe.ports.workers import WorkerInfo


@pytest.fixture
def client(redis_url: str) -> Iterator[Redis]:
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    yield redis
    redis.close()


def test_blob_streams_in_chunks_and_reads_back(client: Redis) -> None:
    store = RedisBlobStore(client, ttl_seconds=60)
    data = bytes(range(256)) * 9000  # 2.3 MB: three chunks
    assert store.put("job_a/audio", io.BytesIO(data)) == len(data)
    with store.open("job_a/audio") as blob:
        assert blob.read() == data
    assert 0 < client.ttl("scribe:blob:job_a/audio") <= 60
    assert not [k for k in client.keys("*") if b".part-" in k]  # no partial left behind


def test_blob_expires(client: Redis) -> None:
    store = RedisBlobStore(client, ttl_seconds=1)
    store.put_bytes("job_b/result.json", b"{}")
    client.pexpire("scribe:blob:job_b/result.json", 50)
    time.sleep(0.1)
    with pytest.raises(NotFound), store.open("job_b/result.json"):
        pass


def test_blob_failed_upload_leaves_nothing(client: Redis) -> None:
    class Broken(io.RawIOBase):
        calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise OSError("client went away")
            return b"x" * 10

    store = RedisBlobStore(client, ttl_seconds=60)
    with pytest.raises(OSError):
        store.put("job_c/audio", Broken())  # type: ignore[arg-type]
    assert client.keys("*") == []


def test_blob_delete_prefix_removes_only_that_job(client: Redis) -> None:
    store = RedisBlobStore(client, ttl_seconds=60)
    for key in ("job_d/audio", "job_d/result.json", "job_d2/audio"):
        store.put_bytes(key, b"1")
    store.delete_prefix("job_d")
    with pytest.raises(NotFound), store.open("job_d/audio"):
        pass
    with store.open("job_d2/audio") as blob:
        assert blob.read() == b"1"
    with pytest.raises(ValueError):
        store.put_bytes("../escape", b"")


def test_events_ids_grow_across_runs_and_resume(client: Redis) -> None:
    events = RedisJobEvents(client, ttl_seconds=60)
    job = f"job_{uuid.uuid4().hex}"
    first = events.publish(job, "job.in_progress", {"attempt": 1}, run=1)
    second = events.publish(job, "job.progress", {"fraction": 0.5}, run=1)
    assert (first.id, second.id) == (RUN_STRIDE + 1, RUN_STRIDE + 2)
    again = events.publish(job, "job.in_progress", {"attempt": 2}, run=2)
    assert again.id == 2 * RUN_STRIDE + 1
    assert [e.id for e in events.after(job, 0, 0)] == [first.id, second.id, again.id]
    resumed = events.after(job, first.id, 0)  # Last-Event-ID
    assert [(e.type, dict(e.data)) for e in resumed] == [
        ("job.progress", {"fraction": 0.5}),
        ("job.in_progress", {"attempt": 2}),
    ]
    assert 0 < client.ttl(f"scribe:events:{job}") <= 60
    events.forget(job)
    assert events.after(job, 0, 0) == []


def test_events_wait_for_a_publisher_on_another_connection(redis_url: str, client: Redis) -> None:
    follower = RedisJobEvents(client, ttl_seconds=60)
    publisher = RedisJobEvents(Redis.from_url(redis_url), ttl_seconds=60)  # another "node"
    job = f"job_{uuid.uuid4().hex}"
    timer = threading.Timer(0.3, lambda: publisher.publish(job, "job.completed", {}, run=1))
    timer.start()
    began = time.monotonic()
    found = follower.after(job, 0, 5.0)
    timer.join()
    assert [e.type for e in found] == ["job.completed"] and found[0].terminal
    assert 0.2 < time.monotonic() - began < 3.0
    began = time.monotonic()
    assert follower.after(job, found[0].id, 0.3) == []  # nothing new: waits, then empty
    assert time.monotonic() - began >= 0.25


def test_lease_one_holder_at_a_time(client: Redis) -> None:
    leases = RedisJobLeases(client, ttl_seconds=0.3)
    assert leases.acquire("job_e", "w1")
    assert not leases.acquire("job_e", "w2")
    assert leases.held("job_e")
    assert not leases.renew("job_e", "w2")
    assert leases.renew("job_e", "w1")
    leases.release("job_e", "w2")  # not its holder: nothing happens
    assert leases.held("job_e")
    time.sleep(0.45)  # w1 died: not renewed
    assert not leases.held("job_e")
    assert leases.acquire("job_e", "w2")
    leases.release("job_e", "w2")
    assert not leases.held("job_e")


def test_worker_registry_expires_with_its_worker(client: Redis) -> None:
    registry = RedisWorkerRegistry(client, ttl_seconds=0.3)
    registry.announce(WorkerInfo("w-nemo", ("nemo",), 1))
    registry.announce(WorkerInfo("w-whisper", ("whisper",), 2))
    assert [(w.name, w.engines, w.concurrency) for w in registry.workers()] == [
        ("w-nemo", ("nemo",), 1),
        ("w-whisper", ("whisper",), 2),
    ]
    registry.withdraw("w-nemo")
    assert [w.name for w in registry.workers()] == ["w-whisper"]
    time.sleep(0.45)
    assert registry.workers() == []
