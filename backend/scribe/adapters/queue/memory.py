"""A bounded in-process ``JobQueue`` and an in-process ``JobEvents`` (one machine: the API and
its workers share the process; durability comes from the job store, which recovery re-reads)."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Mapping
from typing import Any

from scribe.domain.errors import QueueFull
from scribe.ports.job_events import RUN_STRIDE, JobEvent


class MemoryJobQueue:
    def __init__(self, capacity: int, retry_after: float = 10.0) -> None:
        self._capacity = capacity
        self._retry_after = retry_after
        self._items: collections.deque[str] = collections.deque()
        self._ready = threading.Condition()

    @property
    def capacity(self) -> int:
        return self._capacity

    def put(self, job_id: str, *, force: bool = False) -> None:
        with self._ready:
            if not force and len(self._items) >= self._capacity:
                raise QueueFull(
                    f"The server is busy: {self._capacity} jobs are waiting already "
                    "(SCRIBE_JOB_QUEUE_SIZE). Try again later.",
                    retry_after=self._retry_after,
                )
            self._items.append(job_id)
            self._ready.notify()

    def get(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        with self._ready:
            while not self._items:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._ready.wait(left)
            return self._items.popleft()

    def size(self) -> int:
        with self._ready:
            return len(self._items)

    def set_retry_after(self, seconds: float) -> None:
        """The wait a full queue advises (the runner keeps it near the time the queue takes)."""
        self._retry_after = seconds


class MemoryJobEvents:
    """Each job's events in a list; followers wait on a condition for new ones."""

    def __init__(self, max_events_per_job: int = 10_000) -> None:
        self._events: dict[str, list[JobEvent]] = {}
        self._changed = threading.Condition()
        self._max = max_events_per_job

    def publish(self, job_id: str, type_: str, data: Mapping[str, Any], *, run: int) -> JobEvent:
        with self._changed:
            events = self._events.setdefault(job_id, [])
            base = run * RUN_STRIDE
            last = events[-1].id if events else 0
            event = JobEvent(max(base, last) + 1, type_, data)
            if len(events) >= self._max and not event.terminal:
                # A very long job: keep the head and the newest; drop partials in between.
                del events[1]
            events.append(event)
            self._changed.notify_all()
            return event

    def after(self, job_id: str, last_id: int, timeout: float) -> list[JobEvent]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [e for e in self._events.get(job_id, ()) if e.id > last_id]
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                self._changed.wait(left)

    def forget(self, job_id: str) -> None:
        with self._changed:
            self._events.pop(job_id, None)
