"""Jobs for clients: submit (spool the upload, queue the job), read, list, follow, cancel,
delete, and the result in any format. ``JobRunner`` (job_runner.py) runs them.

A key sees only its own jobs (an admin key, and the anonymous caller of an open server, see
every job); another key's job is answered as if it did not exist.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import BinaryIO

from scribe.domain.caller import Caller
from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import (
    Cancelled,
    Conflict,
    InvalidRequest,
    NotFound,
    QueueFull,
    ScribeError,
    ShuttingDown,
)
from scribe.domain.jobs import Job, JobError, JobStatus, clean_filename, new_job_id
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import Transcript
from scribe.domain.transcript_codec import transcript_from_dict
from scribe.ports.blob_store import BlobStore
from scribe.ports.job_events import RUN_STRIDE, JobEvent, JobEvents
from scribe.ports.job_queue import JobQueue
from scribe.ports.job_store import JobStore
from scribe.ports.webhooks import WebhookSender

from .job_requests import request_from_dict, request_to_dict
from .options import OptionsBuilder, TranscriptionRequest

log = logging.getLogger(__name__)

MAX_PAGE = 100
# How long ``cancel`` waits for a running job to stop before answering with its state then.
CANCEL_WAIT_SECONDS = 10.0
# How often a follower re-reads the job record while no event comes (a job cancelled by another
# process, or whose events were lost with a restart, still ends its stream).
FOLLOW_POLL_SECONDS = 1.0
MAX_CALLBACK_URL = 2048


def utc_now() -> datetime:
    return datetime.now(UTC)


def audio_key(job_id: str) -> str:
    return f"{job_id}/audio"


def result_key(job_id: str) -> str:
    return f"{job_id}/result.json"


def terminal_event_type(status: JobStatus) -> str:
    return f"job.{status.value}"


class RunTimes:
    """A running average of how long jobs take, for the ``Retry-After`` of a full queue."""

    def __init__(self, initial: float = 30.0) -> None:
        self._average = initial
        self._lock = threading.Lock()

    def record(self, seconds: float) -> None:
        with self._lock:
            self._average = 0.8 * self._average + 0.2 * seconds

    @property
    def average(self) -> float:
        with self._lock:
            return self._average


class Cancellations:
    """The jobs of this process: the cancel tokens of those running (the runner registers
    them), the context each was submitted in, so that its run logs with the request id of
    its request and charges its audio to that request's admission, the synchronous jobs whose
    clients wait here, and whether the process is closing (a graceful shutdown)."""

    def __init__(self) -> None:
        self._tokens: dict[str, CancelToken] = {}
        self._contexts: dict[str, contextvars.Context] = {}
        self._waiting: set[str] = set()
        self._closing = threading.Event()
        self._lock = threading.Lock()

    def close(self) -> None:
        """No new job is accepted from now on (submissions raise ShuttingDown)."""
        self._closing.set()

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    def add_waiting(self, job_id: str) -> None:
        with self._lock:
            self._waiting.add(job_id)

    def waiting(self) -> list[str]:
        """Synchronous jobs submitted here whose clients have not had their answer yet."""
        with self._lock:
            return list(self._waiting)

    def remember_context(self, job_id: str) -> None:
        with self._lock:
            self._contexts[job_id] = contextvars.copy_context()

    def take_context(self, job_id: str) -> contextvars.Context | None:
        with self._lock:
            return self._contexts.pop(job_id, None)

    def forget(self, job_id: str) -> None:
        """The job's client has its answer (or is gone): nothing of it is kept here."""
        with self._lock:
            self._contexts.pop(job_id, None)
            self._waiting.discard(job_id)

    def register(self, job_id: str, token: CancelToken) -> None:
        with self._lock:
            self._tokens[job_id] = token

    def unregister(self, job_id: str) -> None:
        with self._lock:
            self._tokens.pop(job_id, None)

    def cancel(self, job_id: str, reason: str) -> bool:
        with self._lock:
            token = self._tokens.get(job_id)
        if token is not None:
            token.cancel(reason)
        return token is not None

    def running(self) -> list[str]:
        with self._lock:
            return list(self._tokens)


@dataclass(frozen=True)
class Submission:
    """A submitted job and the options its request was validated into."""

    job: Job
    options: TranscriptionOptions


class Jobs:
    """What clients do with jobs."""

    def __init__(
        self,
        store: JobStore,
        queue: JobQueue,
        blobs: BlobStore,
        events: JobEvents,
        options: OptionsBuilder,
        *,
        webhooks: WebhookSender | None = None,
        cancellations: Cancellations | None = None,
        run_times: RunTimes | None = None,
        slots: int = 1,
        clock: Callable[[], datetime] = utc_now,
        on_cancelled: Callable[[Job], None] | None = None,
    ) -> None:
        self._store = store
        self._queue = queue
        self._blobs = blobs
        self._events = events
        self._options = options
        self._webhooks = webhooks
        self.cancellations = cancellations or Cancellations()
        self.run_times = run_times or RunTimes()
        self._slots = max(1, slots)
        self._clock = clock
        self._on_cancelled = on_cancelled  # a queued job ended here (its callback is due)

    # --- submit -------------------------------------------------------------------------

    def submit(
        self,
        caller: Caller | None,
        request: TranscriptionRequest,
        audio: BinaryIO,
        *,
        background: bool = True,
        callback_url: str | None = None,
        filename: str | bytes | None = None,
    ) -> Submission:
        """Validate the request, spool the upload and queue the job (which keeps ``filename``,
        the upload's name, cleaned).

        Raises InvalidRequest for a request this server cannot honour (before anything is
        stored) and QueueFull when the queue is full. The audio is decoded when the job runs.
        """
        if self.cancellations.closing:
            raise ShuttingDown()
        options = self._options.build(request)
        if callback_url is not None:
            self._check_callback(callback_url)
        self._refuse_if_full()
        job = Job(
            id=new_job_id(),
            owner=None if caller is None else caller.key_id,
            task=request.task,
            model=options.model,
            request=request_to_dict(request),
            created_at=self._clock(),
            background=background,
            callback_url=callback_url,
            filename=clean_filename(filename),
        )
        self._blobs.put(audio_key(job.id), audio)
        self.cancellations.remember_context(job.id)
        if not background:
            self.cancellations.add_waiting(job.id)
        try:
            self._store.add(job)
            try:
                self._queue.put(job.id)
            except QueueFull:
                self._store.delete(job.id)
                raise
        except BaseException as exc:
            self.cancellations.forget(job.id)
            self._blobs.delete_prefix(job.id)
            if isinstance(exc, QueueFull):
                raise self._queue_full() from None
            raise
        log.info("job %s queued (%s, %s)", job.id, job.task.value, job.model)
        return Submission(job, options)

    def _check_callback(self, url: str) -> None:
        if self._webhooks is None:
            raise InvalidRequest(
                "This server does not send callbacks; leave out callback_url.",
                param="callback_url",
            )
        if len(url) > MAX_CALLBACK_URL:
            raise InvalidRequest(
                f"callback_url is longer than {MAX_CALLBACK_URL} characters.",
                param="callback_url",
            )
        self._webhooks.check_url(url)

    def _queue_full(self) -> QueueFull:
        waiting = self._queue.size()
        estimate = self.run_times.average * max(1, waiting) / self._slots
        return QueueFull(
            f"The server is busy: {waiting} jobs are waiting (the queue holds "
            f"{self._queue.capacity}). Try again later.",
            retry_after=min(600.0, max(1.0, estimate)),
        )

    def _refuse_if_full(self) -> None:
        # Checked before the upload is spooled: a busy server does not copy what it will refuse.
        if self._queue.size() >= self._queue.capacity:
            raise self._queue_full()

    # --- read ---------------------------------------------------------------------------

    def get(self, caller: Caller | None, job_id: str) -> Job:
        """The caller's job; NotFound if there is none (or it is another key's)."""
        job = self._store.get(job_id)
        if job is None or not _visible(caller, job):
            raise NotFound(f"No job found with id '{job_id}'.", param="job_id", code="not_found")
        return job

    def page(
        self,
        caller: Caller | None,
        *,
        limit: int = 20,
        after: str | None = None,
        statuses: Sequence[str] = (),
    ) -> tuple[list[Job], bool]:
        """The caller's jobs, newest first (only those in one of ``statuses``, when given), and
        whether more follow."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(
                f"limit must be between 1 and {MAX_PAGE}, got {limit}.", param="limit"
            )
        wanted = parse_statuses(statuses)
        owner = None if caller is None or caller.is_admin else caller.key_id
        if after is not None:
            self.get(caller, after)  # an unknown cursor is a 404, not an empty page
        return self._store.page(owner, limit=limit, after=after, statuses=wanted)

    def result(
        self, caller: Caller | None, job_id: str
    ) -> tuple[Job, Transcript, TranscriptionOptions]:
        """A completed job's transcript, and the options to render it with (those of its
        request). Conflict (409) until the job has completed."""
        job = self.get(caller, job_id)
        if job.status is not JobStatus.COMPLETED:
            raise Conflict(
                f"Job {job_id} is {job.status.value}; its result is available once it has "
                "completed.",
                param="job_id",
                code="job_not_completed",
            )
        with self._blobs.open(result_key(job_id)) as stored:
            transcript = transcript_from_dict(json.loads(stored.read()))
        return job, transcript, self.render_options(job)

    def render_options(self, job: Job) -> TranscriptionOptions:
        """The options a job's result renders with: its request's (without the known speakers'
        clips, which rendering does not need); defaults if the server's models changed since."""
        request = replace(request_from_dict(job.request), known_speakers=())
        try:
            return self._options.build(request)
        except Exception:
            log.info("job %s: its request no longer validates; rendering with defaults", job.id)
            return TranscriptionOptions()

    def follow(
        self, caller: Caller | None, job_id: str, last_id: int, timeout: float
    ) -> tuple[Job, list[JobEvent]]:
        """The job's events after ``last_id``, waiting up to ``timeout`` seconds for one. When
        the job has ended and no event says so (its events were lost with a restart, or another
        process ended it), a terminal event is made from the record."""
        job = self.get(caller, job_id)
        events = self._events.after(job_id, last_id, min(timeout, FOLLOW_POLL_SECONDS))
        if events:
            return job, events
        job = self.get(caller, job_id)
        if job.status.terminal:
            events = self._events.after(job_id, last_id, 0)
            if not any(e.terminal for e in events):
                # Above every id the job's runs could have given out.
                from_record = JobEvent(
                    (job.attempts + 1) * RUN_STRIDE - 1, terminal_event_type(job.status), {}
                )
                events = [*events, from_record] if from_record.id > last_id else events
        return job, events

    # --- change -------------------------------------------------------------------------

    def cancel(
        self,
        caller: Caller | None,
        job_id: str,
        *,
        wait: float = CANCEL_WAIT_SECONDS,
        reason: str = "The job was cancelled.",
    ) -> Job:
        """Cancel a queued or running job (a running one stops at its next safe point, within
        seconds). Cancelling a cancelled job changes nothing; a completed or failed one is a
        Conflict."""
        job = self.get(caller, job_id)
        if job.status is JobStatus.CANCELLED:
            return job
        if job.status.terminal:
            raise Conflict(
                f"Job {job_id} has already {job.status.value}; it cannot be cancelled.",
                param="job_id",
                code="job_finished",
            )
        if job.status is JobStatus.QUEUED:
            cancelled = job.cancel(self._clock())
            if self._store.save(cancelled, expect=JobStatus.QUEUED):
                self._events.publish(job_id, "job.cancelled", {}, run=job.attempts)
                self.cancellations.take_context(job_id)
                log.info("job %s cancelled while queued: %s", job_id, reason)
                if self._on_cancelled is not None:
                    self._on_cancelled(cancelled)
                return cancelled
            job = self.get(caller, job_id)  # it started meanwhile
        if job.status is JobStatus.IN_PROGRESS:
            self._store.save(job.request_cancel(), expect=JobStatus.IN_PROGRESS)
            self.cancellations.cancel(job_id, reason)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                job = self.get(caller, job_id)
                if job.status.terminal:
                    break
                time.sleep(0.05)
        return self.get(caller, job_id)

    def delete(self, caller: Caller | None, job_id: str) -> None:
        """Delete a job with its audio and result (a running job is cancelled first)."""
        job = self.get(caller, job_id)
        if not job.status.terminal:
            job = self.cancel(caller, job_id)
        self.discard(job_id, keep_record=False)
        log.info("job %s deleted", job_id)

    def discard(self, job_id: str, *, keep_record: bool = True) -> None:
        """Drop a job's audio, result and events (a synchronous request's, once answered);
        the record too unless ``keep_record``."""
        self._blobs.delete_prefix(job_id)
        self._events.forget(job_id)
        self.cancellations.forget(job_id)
        if not keep_record:
            self._store.delete(job_id)

    def wait(
        self, job_id: str, cancel: CancelToken | None = None, *, poll: float = FOLLOW_POLL_SECONDS
    ) -> Job:
        """Block until the job has ended; its final record (for synchronous requests, whose
        owner is already checked). Once ``cancel`` is cancelled, the job is cancelled and this
        raises ``Cancelled``."""
        last = 0
        while True:
            if cancel is not None and cancel.cancelled:
                self.cancel(None, job_id, wait=0, reason=cancel.reason)
                raise Cancelled(cancel.reason, code="cancelled")
            job, events = self.follow(None, job_id, last, poll)
            if events:
                last = events[-1].id
            if job.status.terminal or any(e.terminal for e in events):
                final = self._store.get(job_id) or job
                if final.status.terminal:
                    return final


# What people call a job that runs; the API's name for it is ``in_progress``.
_STATUS_ALIASES = {"running": JobStatus.IN_PROGRESS}


def parse_statuses(values: Sequence[str]) -> list[JobStatus]:
    """Status names of a list filter (each value may hold several, comma-separated) as
    statuses; InvalidRequest naming the one that is none."""
    found: list[JobStatus] = []
    for value in values:
        for name in value.split(","):
            name = name.strip().lower()
            if not name:
                continue
            status = _STATUS_ALIASES.get(name)
            if status is None:
                try:
                    status = JobStatus(name)
                except ValueError:
                    known = ", ".join(s.value for s in JobStatus)
                    raise InvalidRequest(
                        f"Unknown job status '{name}': use one of {known} (or running).",
                        param="status",
                        code="invalid_status",
                    ) from None
            if status not in found:
                found.append(status)
    return found


def _visible(caller: Caller | None, job: Job) -> bool:
    return caller is None or caller.is_admin or job.owner == caller.key_id


def error_from(error: JobError) -> ScribeError:
    """The domain error a failed job records, rebuilt (a synchronous request raises it, so it
    gets the status it would have had without the queue)."""
    from scribe.domain import errors

    cls = getattr(errors, error.kind, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.ScribeError)):
        cls = errors.ScribeError
    exc = cls.__new__(cls)
    # A kind that advises a wait (ShuttingDown) keeps it: its 503 carries that Retry-After.
    retry_after = getattr(cls, "RETRY_AFTER", None)
    errors.ScribeError.__init__(
        exc, error.message, param=error.param, code=error.code, retry_after=retry_after
    )
    return exc
