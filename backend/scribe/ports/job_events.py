from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# Event ids of a job's run number ``r`` lie in [r * RUN_STRIDE, (r + 1) * RUN_STRIDE): a job that
# runs again after a restart (its earlier events lost with the process) continues above every id
# its clients saw.
RUN_STRIDE = 1_000_000


@dataclass(frozen=True)
class JobEvent:
    """One event of a job: ``id`` grows with every event of the job (and across its runs)."""

    id: int
    type: str
    data: Mapping[str, Any]

    @property
    def terminal(self) -> bool:
        return self.type in ("job.completed", "job.failed", "job.cancelled")


class JobEvents(Protocol):
    """Progress and partial results of running jobs, for whoever follows them (SSE, a waiting
    synchronous request). Replayable from an event id; ends with a terminal event."""

    def publish(self, job_id: str, type_: str, data: Mapping[str, Any], *, run: int) -> JobEvent:
        """Append an event to the job's stream. ``run`` (the job's attempt number) keeps ids
        increasing when a job runs again after a restart."""
        ...

    def after(self, job_id: str, last_id: int, timeout: float) -> list[JobEvent]:
        """Events with an id above ``last_id``, waiting up to ``timeout`` seconds for one;
        empty if none came."""
        ...

    def forget(self, job_id: str) -> None:
        """Drop a job's events (it was deleted, or has long ended)."""
        ...
