"""``JobLeases`` and ``WorkerRegistry`` on Redis keys that expire."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from scribe.ports.workers import WorkerInfo

if TYPE_CHECKING:
    from redis import Redis

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisJobLeases:
    """A lease is ``SET key holder NX PX ttl``; renew and release only by their holder."""

    def __init__(self, client: Redis, *, ttl_seconds: float, prefix: str = "scribe:lease:") -> None:
        self._redis = client
        self._ttl_ms = max(100, int(ttl_seconds * 1000))
        self._prefix = prefix
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self, job_id: str, holder: str) -> bool:
        return bool(self._redis.set(self._prefix + job_id, holder, nx=True, px=self._ttl_ms))

    def renew(self, job_id: str, holder: str) -> bool:
        return bool(self._renew(keys=[self._prefix + job_id], args=[holder, self._ttl_ms]))

    def release(self, job_id: str, holder: str) -> None:
        self._release(keys=[self._prefix + job_id], args=[holder])

    def held(self, job_id: str) -> bool:
        return bool(self._redis.exists(self._prefix + job_id))


class RedisWorkerRegistry:
    def __init__(
        self, client: Redis, *, ttl_seconds: float = 30.0, prefix: str = "scribe:worker:"
    ) -> None:
        self._redis = client
        self._ttl_ms = max(100, int(ttl_seconds * 1000))
        self._prefix = prefix

    def announce(self, worker: WorkerInfo) -> None:
        body = {"engines": list(worker.engines), "concurrency": worker.concurrency}
        self._redis.set(self._prefix + worker.name, json.dumps(body), px=self._ttl_ms)

    def withdraw(self, name: str) -> None:
        self._redis.delete(self._prefix + name)

    def workers(self) -> Sequence[WorkerInfo]:
        found: list[WorkerInfo] = []
        for key in sorted(self._redis.scan_iter(match=self._prefix + "*", count=100)):
            # redis-py types sync and async clients alike; this client is synchronous.
            raw = cast("bytes | str | None", self._redis.get(key))
            if raw is None:
                continue
            body = json.loads(raw)
            name = (key.decode() if isinstance(key, bytes) else str(key))[len(self._prefix) :]
            found.append(WorkerInfo(name, tuple(body["engines"]), int(body["concurrency"])))
        return found
