"""``JobEvents`` on Redis streams, so that any API node follows a job that any worker runs.

Each job's events are one stream; an event's id ``n`` is the stream entry ``n-0``, so a client's
``Last-Event-ID`` is where ``XREAD`` resumes. Ids follow the in-process rule: a job's run ``r``
numbers its events above ``r * RUN_STRIDE``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from scribe.ports.job_events import RUN_STRIDE, JobEvent

if TYPE_CHECKING:
    from redis import Redis

# Append atomically: the next id is max(run base, last id) + 1, whoever publishes.
_PUBLISH = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local n = 0
if #last > 0 then n = tonumber(string.match(last[1][1], '^(%d+)')) end
local base = tonumber(ARGV[1])
if base > n then n = base end
n = n + 1
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], tostring(n) .. '-0', 't', ARGV[2], 'd', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return n
"""


class RedisJobEvents:
    def __init__(
        self,
        client: Redis,
        *,
        ttl_seconds: int,
        max_events_per_job: int = 10_000,
        prefix: str = "scribe:events:",
    ) -> None:
        self._redis = client
        self._ttl = max(1, int(ttl_seconds))
        self._max = max_events_per_job
        self._prefix = prefix
        self._publish = client.register_script(_PUBLISH)

    def _key(self, job_id: str) -> str:
        return self._prefix + job_id

    def publish(self, job_id: str, type_: str, data: Mapping[str, Any], *, run: int) -> JobEvent:
        payload = json.dumps(dict(data), separators=(",", ":"))
        number = self._publish(
            keys=[self._key(job_id)],
            args=[run * RUN_STRIDE, type_, payload, self._max, self._ttl],
        )
        return JobEvent(int(cast(int, number)), type_, data)

    def after(self, job_id: str, last_id: int, timeout: float) -> list[JobEvent]:
        block = max(1, int(timeout * 1000)) if timeout > 0 else None
        answer = self._redis.xread(
            {self._key(job_id): f"{max(0, last_id)}-0"}, block=block, count=1000
        )
        events: list[JobEvent] = []
        for _stream, entries in cast(list[Any], answer or []):
            for entry_id, fields in entries:
                raw_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                decoded = {
                    (k.decode() if isinstance(k, bytes) else k): v for k, v in fields.items()
                }
                type_ = decoded["t"]
                events.append(
                    JobEvent(
                        int(raw_id.split("-", 1)[0]),
                        type_.decode() if isinstance(type_, bytes) else str(type_),
                        json.loads(decoded["d"]),
                    )
                )
        return events

    def forget(self, job_id: str) -> None:
        self._redis.delete(self._key(job_id))
