"""Prometheus metrics of one process (``prometheus-client``), in a registry of its own.

Counted as things happen: HTTP requests and their durations (the API middleware), jobs that end
in this process and the audio they processed (the job runner's ``on_finished``). Read at scrape
time: jobs by state from the job store (so every API node reports the shared truth), the queue's
depth (the local queue, or the broker's lists), the models loaded, and the GPU memory torch holds
on each device (only where torch is already in use and sees CUDA).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scribe import __version__
from scribe.domain.jobs import Job, JobStatus
from scribe.ports.job_queue import JobQueue
from scribe.ports.job_store import JobStore

log = logging.getLogger(__name__)

NAMESPACE = "scribe"
# HTTP requests: most are quick (health, job status); transcriptions take seconds to minutes.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
JOB_BUCKETS = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)


class ServiceMetrics:
    """The metrics of one ``scribe serve`` or ``scribe worker`` process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "http_request_duration_seconds",
            "Time from a request's arrival to the end of its response (streams included).",
            ["method", "route"],
            namespace=NAMESPACE,
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "job_duration_seconds",
            "Processing time of the jobs that ended in this process, by task, engine and status.",
            ["task", "engine", "status"],
            namespace=NAMESPACE,
            buckets=JOB_BUCKETS,
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "audio_processed_seconds",
            "Seconds of audio processed by the jobs that ended in this process.",
            ["task", "engine"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.add(_InfoCollector())
        # The process's CPU, memory and open files, and the interpreter's GC, as usual.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def add(self, collector: Collector) -> None:
        """Register a collector read at every scrape."""
        self.registry.register(collector)

    # --- counted as things happen --------------------------------------------------------

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def job_finished(self, job: Job) -> None:
        """A job ended in this process (the runner's ``on_finished``)."""
        engine = job.model or "unknown"
        task = job.task.value
        if job.usage is not None:
            self.job_seconds.labels(task, engine, job.status.value).observe(
                job.usage.processing_seconds
            )
            if job.status is JobStatus.COMPLETED:
                self.audio_seconds.labels(task, engine).inc(job.usage.audio_seconds)

    # --- exposition ----------------------------------------------------------------------

    def render(self) -> tuple[bytes, str]:
        """The text exposition format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        """Serve ``/metrics`` on ``port`` from a daemon thread (``scribe worker``)."""
        start_http_server(port, addr=host, registry=self.registry)
        log.info("metrics on http://%s:%d/metrics", host, port)


class _InfoCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            f"{NAMESPACE}_build_info", "This Scribe's version (always 1).", labels=["version"]
        )
        info.add_metric([__version__], 1)
        yield info


class JobStateCollector(Collector):
    """Jobs in the store by state, and the queue's depth, read at each scrape."""

    def __init__(self, store: JobStore, queue: JobQueue) -> None:
        self._store = store
        self._queue = queue

    def describe(self) -> Iterator[Metric]:
        """The families, without reading the store: the registry calls ``collect`` to learn
        them otherwise, at registration, before the database may even be migrated."""
        yield GaugeMetricFamily(f"{NAMESPACE}_jobs", "", labels=["state"])
        yield GaugeMetricFamily(f"{NAMESPACE}_job_queue_depth", "")
        yield GaugeMetricFamily(f"{NAMESPACE}_job_queue_capacity", "")

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            f"{NAMESPACE}_jobs",
            "Jobs in the job store by state (every process sharing it reports the same).",
            labels=["state"],
        )
        try:
            counts = self._store.count_by_status()
        except Exception as exc:  # a scrape must not fail because the database is away
            log.warning("metrics: could not count the jobs: %s", exc)
        else:
            for status in JobStatus:
                jobs.add_metric([status.value], counts.get(status, 0))
            yield jobs
        depth = GaugeMetricFamily(
            f"{NAMESPACE}_job_queue_depth",
            "Jobs waiting for a worker (this process's queue, or the broker's queues).",
        )
        try:
            depth.add_metric([], self._queue.size())
        except Exception as exc:
            log.warning("metrics: could not read the queue's depth: %s", exc)
        else:
            yield depth
        capacity = GaugeMetricFamily(
            f"{NAMESPACE}_job_queue_capacity", "Jobs the queue may hold (SCRIBE_JOB_QUEUE_SIZE)."
        )
        capacity.add_metric([], self._queue.capacity)
        yield capacity


class ModelCollector(Collector):
    """One series per model: 1 once loaded, labelled with its role, device and dtype."""

    def __init__(self, describe: Callable[[], Iterable[Any]]) -> None:
        self._describe = describe  # yields objects with name, role, device, dtype, loaded

    def collect(self) -> Iterator[Metric]:
        loaded = GaugeMetricFamily(
            f"{NAMESPACE}_model_loaded",
            "1 when the model is loaded in this process, else 0.",
            labels=["model", "role", "device", "dtype"],
        )
        for info in self._describe():
            loaded.add_metric(
                [info.name, info.role, info.device or "", info.dtype or ""], int(info.loaded)
            )
        yield loaded


class GpuMemoryCollector(Collector):
    """GPU memory torch has allocated and reserved, per CUDA device. Nothing where torch is not
    imported (Whisper-only processes never import it) or sees no GPU."""

    def collect(self) -> Iterator[Metric]:
        torch = sys.modules.get("torch")
        if torch is None:
            return
        try:
            if not torch.cuda.is_available() or not torch.cuda.is_initialized():
                return
            devices = range(torch.cuda.device_count())
            allocated = GaugeMetricFamily(
                f"{NAMESPACE}_gpu_memory_allocated_bytes",
                "GPU memory held by tensors, per device (torch.cuda.memory_allocated).",
                labels=["device"],
            )
            reserved = GaugeMetricFamily(
                f"{NAMESPACE}_gpu_memory_reserved_bytes",
                "GPU memory reserved by torch's caching allocator (torch.cuda.memory_reserved).",
                labels=["device"],
            )
            total = GaugeMetricFamily(
                f"{NAMESPACE}_gpu_memory_total_bytes",
                "The device's memory.",
                labels=["device"],
            )
            for index in devices:
                name = f"cuda:{index}"
                allocated.add_metric([name], torch.cuda.memory_allocated(index))
                reserved.add_metric([name], torch.cuda.memory_reserved(index))
                total.add_metric([name], torch.cuda.get_device_properties(index).total_memory)
        except Exception as exc:
            log.warning("metrics: could not read the GPU's memory: %s", exc)
            return
        yield allocated
        yield reserved
        yield total
