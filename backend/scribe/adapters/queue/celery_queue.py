"""Jobs on Celery with Redis as the broker: the API node's ``JobQueue`` sends one task per job to
the queue of the engine its model runs on; ``scribe worker`` consumes those queues.

Delivery: late acknowledgement (a task is acknowledged when it has run, so a worker that dies
loses nothing), ``reject_on_worker_lost`` (a pool process that dies returns its task),
prefetch 1 (a busy worker holds no other job), and a visibility timeout longer than the longest
job (Redis hands an unacknowledged task to another worker after it). Running a job twice is
harmless: the job use case stores one result (see ``JobWorker``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from scribe.domain.errors import QueueFull

if TYPE_CHECKING:
    from celery import Celery
    from redis import Redis

log = logging.getLogger(__name__)

TASK_NAME = "scribe.run_job"
ENGINE_QUEUES = ("whisper", "nemo")


def celery_app(broker_url: str, *, visibility_timeout: int) -> Celery:
    """The Celery application of API nodes and workers (the same settings on both sides)."""
    from celery import Celery

    app = Celery("scribe", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        broker_connection_retry_on_startup=True,
        task_default_queue=ENGINE_QUEUES[0],
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # results live in the job store and the blob store
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # A worker that loses Redis for a moment keeps its running job (the job's lease and
        # the store decide who finishes it), instead of cancelling it.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


SENT_PREFIX = "scribe:sent:"


class CeleryJobQueue:
    """``put`` sends a task to the queue ``route(job_id)`` names (the job's engine); the bound
    is on the broker's queues together, read from Redis (the lists kombu keeps per queue).

    Each send also sets a key in the same Redis, which the worker's task deletes when it starts
    (``taken``): ``waiting`` tells the reconciliation sweep whether a message for a job is in
    the broker (see ``use_cases.job_reconciler``). The key is set after the send: a crash in
    between costs one extra send later, never a job left without a message.
    """

    def __init__(
        self,
        app: Celery,
        client: Redis,
        route: Callable[[str], str],
        *,
        capacity: int,
        queues: Sequence[str] = ENGINE_QUEUES,
        retry_after: float = 10.0,
        sent_ttl_seconds: int = 7 * 24 * 3600,
    ) -> None:
        self._app = app
        self._redis = client
        self._route = route
        self._capacity = capacity
        self._queues = tuple(queues)
        self._retry_after = retry_after
        self._sent_ttl = max(1, sent_ttl_seconds)

    @property
    def capacity(self) -> int:
        return self._capacity

    def put(self, job_id: str, *, force: bool = False) -> None:
        if not force and self.size() >= self._capacity:
            raise QueueFull(
                f"The server is busy: {self._capacity} jobs are waiting already "
                "(SCRIBE_JOB_QUEUE_SIZE). Try again later.",
                retry_after=self._retry_after,
            )
        queue = self._route(job_id)
        self._app.send_task(TASK_NAME, args=[job_id], queue=queue, routing_key=queue)
        self._redis.set(SENT_PREFIX + job_id, "1", ex=self._sent_ttl)

    def waiting(self, job_id: str) -> bool:
        return bool(self._redis.exists(SENT_PREFIX + job_id))

    def taken(self, job_id: str) -> None:
        """A worker took the job's message (its task started)."""
        self._redis.delete(SENT_PREFIX + job_id)

    def get(self, timeout: float) -> str | None:
        """Celery workers take the jobs; nothing here does."""
        raise NotImplementedError("Celery workers take jobs from the broker")

    def size(self) -> int:
        pipe = self._redis.pipeline()
        for name in self._queues:
            pipe.llen(name)
        return sum(int(n) for n in pipe.execute())


def register_job_task(
    app: Celery,
    execute: Callable[[str], Any],
    taken: Callable[[str], None] | None = None,
) -> None:
    """The worker's one task: run the job with this id (``execute`` is the job use case);
    ``taken`` first (``CeleryJobQueue.taken``: its message no longer waits)."""

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True
    )
    def run_job(job_id: str) -> None:
        if taken is not None:
            try:
                taken(job_id)
            except Exception:  # the job runs all the same; at worst it is sent once more
                log.warning("job %s: could not mark its message taken", job_id)
        outcome = execute(job_id)
        log.info("job %s: %s", job_id, outcome)


def on_worker_shutdown(callback: Callable[[], Any]) -> None:
    """Call ``callback`` when the worker is told to stop (SIGTERM: Celery's warm shutdown), in
    the signal handler: it must only start things."""
    from celery.signals import worker_shutting_down

    def handler(**_: Any) -> None:
        callback()

    worker_shutting_down.connect(handler, weak=False)


def run_worker(
    app: Celery, *, queues: Sequence[str], concurrency: int, name: str, loglevel: str
) -> None:
    """Consume ``queues`` until SIGTERM (warm shutdown: running jobs finish first; a second
    SIGQUIT stops at once, and the unacknowledged jobs go to another worker)."""
    worker = app.Worker(
        hostname=name,
        queues=list(queues),
        concurrency=concurrency,
        # Threads share the engines this process loaded once (one model per GPU).
        pool="threads",
        loglevel=loglevel.upper(),
        without_gossip=True,
        without_mingle=True,
        optimization="fair",
    )
    worker.start()
    code = getattr(worker, "exitcode", 0)
    if code:
        raise SystemExit(code)
