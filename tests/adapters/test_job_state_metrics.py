"""The job-state collector reads the store at each scrape, and not before."""

from prometheus_client import generate_latest

from scribe.adapters.metrics.prometheus_metrics import JobStateCollector, ServiceMetrics
from scribe.domain.jobs import JobStatus


class _Store:
    def __init__(self) -> None:
        self.reads = 0

    def count_by_status(self) -> dict[JobStatus, int]:
        self.reads += 1
        return {JobStatus.QUEUED: 3}


class _Queue:
    capacity = 8

    def size(self) -> int:
        return 2


def test_registering_does_not_read_the_store_and_a_scrape_does() -> None:
    store = _Store()
    metrics = ServiceMetrics()
    metrics.add(JobStateCollector(store, _Queue()))  # type: ignore[arg-type]
    assert store.reads == 0  # the database may not be migrated yet when services are built
    text = generate_latest(metrics.registry).decode()
    assert store.reads == 1
    assert 'scribe_jobs{state="queued"} 3.0' in text
    assert "scribe_job_queue_depth 2.0" in text and "scribe_job_queue_capacity 8.0" in text
