"""JobRunner: takes queued jobs and runs them, a bounded number at a time.

Each of its ``slots`` threads takes the next job id from the queue, decodes the spooled upload,
transcribes it (publishing progress and segments as events), stores the result and ends the job.
A monitor thread passes cancellations made by other processes (``scribe jobs cancel``) to the
running jobs, and sweeps out jobs older than the retention time. At start, ``recover`` puts back
what a previous process left: queued jobs are queued again, interrupted ones run again (a job
whose runs keep killing the process fails after ``max_attempts``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import Cancelled, ScribeError, ShuttingDown
from scribe.domain.jobs import Job, JobError, JobProgress, JobStatus, JobUsage
from scribe.domain.transcript import Segment
from scribe.domain.transcript_codec import segment_to_dict, transcript_to_dict
from scribe.log_context import job_context
from scribe.ports.blob_store import BlobStore
from scribe.ports.job_events import JobEvents
from scribe.ports.job_queue import JobQueue
from scribe.ports.job_store import JobStore

from .callback_delivery import CallbackDelivery
from .job_requests import request_from_dict
from .jobs import (
    Cancellations,
    RunTimes,
    audio_key,
    result_key,
    terminal_event_type,
    utc_now,
)
from .options import OptionsBuilder
from .transcribe import TranscribeAudio

log = logging.getLogger(__name__)

# A job's progress is written to its record at most this often (events carry every step).
PROGRESS_WRITE_SECONDS = 1.0
MONITOR_SECONDS = 1.0
QUEUE_POLL_SECONDS = 0.5
SERVER_RESTARTED = "The server restarted while this synchronous request was waiting or running."
SHUTTING_DOWN = "The server is shutting down."
DRAIN_POLL_SECONDS = 0.05


class _JobSink:
    """The use case's ProgressSink for one job: events for every step, the record now and then."""

    def __init__(self, runner: JobRunner, job: Job, final_decoded: bool) -> None:
        self._runner = runner
        self.job = job
        self._final_decoded = final_decoded  # no diarization: decoded segments are final
        self._written = 0.0

    def _publish(self, type_: str, data: Mapping[str, Any]) -> None:
        self._runner.events.publish(self.job.id, type_, data, run=self.job.attempts)

    def on_segment(self, segment: Segment) -> None:
        self._publish(
            "segment.decoded", {"segment": segment_to_dict(segment), "final": self._final_decoded}
        )

    def on_attributed(self, segment: Segment) -> None:
        self._publish("segment.attributed", {"segment": segment_to_dict(segment), "final": True})

    def on_progress(self, fraction: float, stage: str) -> None:
        progress = JobProgress(stage, round(min(1.0, max(0.0, fraction)), 4))
        self._publish("job.progress", {"stage": progress.stage, "fraction": progress.fraction})
        now = time.monotonic()
        if now - self._written >= PROGRESS_WRITE_SECONDS or stage != self.job.progress.stage:
            self._written = now
            self.job = self.job.advance(progress)
            self._runner.store.save(self.job, expect=JobStatus.IN_PROGRESS)


class JobRunner:
    """Runs queued jobs in ``slots`` threads."""

    def __init__(
        self,
        store: JobStore,
        queue: JobQueue,
        blobs: BlobStore,
        events: JobEvents,
        options: OptionsBuilder,
        transcribe: TranscribeAudio,
        *,
        slots: int = 1,
        max_attempts: int = 3,
        retention: timedelta = timedelta(hours=24),
        callbacks: CallbackDelivery | None = None,
        on_finished: Callable[[Job], None] | None = None,
        is_ready: Callable[[], bool] = lambda: True,
        cancellations: Cancellations | None = None,
        run_times: RunTimes | None = None,
        clock: Callable[[], datetime] = utc_now,
        sweep_seconds: float = 300.0,
        consume: bool = True,
        reconcile: Callable[[], object] | None = None,
        reconcile_seconds: float = 60.0,
        charging: Callable[[Job], AbstractContextManager[object]] | None = None,
    ) -> None:
        self.store = store
        self.queue = queue
        self.blobs = blobs
        self.events = events
        self._options = options
        self._transcribe = transcribe
        self.slots = max(1, slots)
        self._max_attempts = max(1, max_attempts)
        self._retention = retention
        # Sends the callbacks of ended jobs (the store writes them as jobs end): started and
        # stopped with this runner, in every process that has one.
        self.callbacks = callbacks
        self._on_finished = on_finished
        self._is_ready = is_ready
        self.cancellations = cancellations or Cancellations()
        self.run_times = run_times or RunTimes()
        self._clock = clock
        self._sweep_seconds = sweep_seconds
        # False where a broker delivers the jobs (Celery workers call ``run``; API nodes run
        # nothing): no slot threads and no recovery, which is the broker's; the monitor stays.
        self.consume = consume
        # An API node's sweep for jobs whose broker message was lost (``JobReconciler``).
        self._reconcile = reconcile
        self._reconcile_seconds = reconcile_seconds
        # Around decoding: charges the audio to its owner's hourly budget where the request
        # that submitted the job is not in this process to be charged.
        self._charging = charging or (lambda job: nullcontext())
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._starting = threading.Lock()
        # Jobs a graceful shutdown handed back while their run went on: that run's end
        # (whenever its engine call returns) must not record anything.
        self._handed_back: set[str] = set()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Recover what a previous process left, then start the worker and monitor threads."""
        with self._starting:
            if self._threads:
                return
            self._stop.clear()
            if self.consume:
                self.recover()
            self._spawn()
            if self.callbacks is not None:
                self.callbacks.start()

    @property
    def running(self) -> bool:
        """Started and not stopped since."""
        return bool(self._threads)

    def _spawn(self) -> None:
        for index in range(self.slots if self.consume else 0):
            thread = threading.Thread(target=self._work, name=f"job-slot-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        monitor = threading.Thread(target=self._monitor, name="job-monitor", daemon=True)
        monitor.start()
        self._threads.append(monitor)
        if self.consume:
            log.info("job runner: %d slot(s), queue of %d", self.slots, self.queue.capacity)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs; running ones are cancelled back into the queue's care (they are
        re-queued at the next start, as after a crash)."""
        self._stop.set()
        for job_id in self.cancellations.running():
            self.cancellations.cancel(job_id, "The server is shutting down.")
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        if self.callbacks is not None:
            self.callbacks.stop()

    # --- graceful shutdown --------------------------------------------------------------

    def close(self) -> None:
        """Take no more jobs: the slots stop taking from the queue and new submissions are
        refused (ShuttingDown); queued jobs stay queued in the store for the next start."""
        self.cancellations.close()

    def drain(self, deadline: float, *, keep_waiting_clients: bool = False) -> list[str]:
        """A graceful shutdown, until ``deadline`` (``time.monotonic()``): take no more jobs,
        let running ones finish, then hand back what still runs. The ids handed back.

        A job handed back is queued again (its attempt not counted, its audio kept): a
        background job runs at the next start or on another worker. The synchronous jobs whose
        clients wait in this process end with ShuttingDown (a 503 with Retry-After, an error
        event on a stream), at once if they have not started, else at the deadline; with
        ``keep_waiting_clients`` (a worker: the clients wait on an API node) they are handed
        back like the others. The engine calls of handed-back runs are not waited for: they end
        in the background and record nothing."""
        self.close()
        if not keep_waiting_clients:
            self._answer_waiting(queued_only=True)
        while time.monotonic() < deadline and (
            self.cancellations.running()
            or (not keep_waiting_clients and self.cancellations.waiting())
        ):
            time.sleep(DRAIN_POLL_SECONDS)
        handed: list[str] = []
        for job_id in self.cancellations.running():
            job = self.store.get(job_id)
            if job is not None and job.status is JobStatus.IN_PROGRESS:
                if job.background or keep_waiting_clients:
                    if self.hand_back(job):
                        handed.append(job_id)
                else:
                    self._end(job, error=ShuttingDown())
            self.cancellations.cancel(job_id, SHUTTING_DOWN)
        if not keep_waiting_clients:
            self._answer_waiting(queued_only=False)
        if handed:
            log.info("shutdown: %d job(s) handed back to the queue: %s", len(handed), handed)
        return handed

    def hand_back(self, job: Job) -> bool:
        """Queue a running job again without counting its attempt; False if it had changed."""
        self._handed_back.add(job.id)
        if self.store.save(job.hand_back(), expect=JobStatus.IN_PROGRESS):
            with job_context(job.id):
                log.info("job %s: handed back to the queue (the shutdown's grace ended)", job.id)
            return True
        self._handed_back.discard(job.id)
        return False

    def _answer_waiting(self, *, queued_only: bool) -> None:
        """End the synchronous jobs this process's clients wait for with ShuttingDown."""
        for job_id in self.cancellations.waiting():
            job = self.store.get(job_id)
            if job is None or job.status.terminal:
                continue
            if queued_only and job.status is not JobStatus.QUEUED:
                continue
            self._end(job, error=ShuttingDown())

    def recover(self) -> None:
        """Queue again what was queued; run again what was running (counting attempts)."""
        requeued = failed = 0
        began = self._clock()
        for job in self.store.with_status([JobStatus.IN_PROGRESS, JobStatus.QUEUED]):
            if job.created_at >= began or job.id in self.cancellations.running():
                continue  # submitted to this process (one started without a lifespan)
            if not job.background:
                # Its client's connection died with the old process: nobody waits for it.
                self._end(job, error=ScribeError(SERVER_RESTARTED, code="server_restarted"))
                failed += 1
                continue
            if job.status is JobStatus.IN_PROGRESS:
                if job.attempts >= self._max_attempts:
                    self._end(job, error=self._too_many_attempts(job))
                    failed += 1
                    continue
                job = job.requeue()
                if not self.store.save(job, expect=JobStatus.IN_PROGRESS):
                    continue
            self.queue.put(job.id, force=True)
            requeued += 1
        if requeued or failed:
            log.info("recovery: %d job(s) queued again, %d failed", requeued, failed)

    # --- work ---------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set() and not self.cancellations.closing:
            if not self._is_ready():
                self._stop.wait(QUEUE_POLL_SECONDS)
                continue
            job_id = self.queue.get(QUEUE_POLL_SECONDS)
            if job_id is None:
                continue
            if self.cancellations.closing:
                return  # it stays queued in the store: the next start queues it again
            try:
                self.run(job_id)
            except Exception:
                log.exception("job %s: the runner failed", job_id)

    def run(self, job_id: str, *, resume_interrupted: bool = False) -> Job | None:
        """Run one job (if it is still queued); its final record. A job submitted to this
        process runs in its request's context (its request id, its admission).

        The one way a job runs, for this runner's slots and for a broker's workers. With
        ``resume_interrupted`` (the caller knows that nobody runs it: a worker holding its
        lease), a job left in progress by a dead process runs again, counting the attempt."""
        context = self.cancellations.take_context(job_id)
        if context is not None:
            return context.run(self._run_logged, job_id, resume_interrupted)
        return self._run_logged(job_id, resume_interrupted)

    def _run_logged(self, job_id: str, resume_interrupted: bool) -> Job | None:
        with job_context(job_id):  # every line logged while it runs carries the job's id
            return self._run(job_id, resume_interrupted)

    def _resume(self, job: Job) -> Job | None:
        """A job whose process died while running it: queued again, or failed after
        ``max_attempts``; None when another process changed it meanwhile."""
        if job.attempts >= self._max_attempts:
            self._end(job, error=self._too_many_attempts(job))
            return None
        requeued = job.requeue()
        if not self.store.save(requeued, expect=JobStatus.IN_PROGRESS):
            return None
        log.info("job %s: its worker stopped while running it; running it again", job.id)
        return requeued

    @staticmethod
    def _too_many_attempts(job: Job) -> ScribeError:
        return ScribeError(
            f"The job was interrupted {job.attempts} times (the server stopped while running "
            "it); it is not tried again.",
            code="too_many_attempts",
        )

    def _run(self, job_id: str, resume_interrupted: bool = False) -> Job | None:
        job = self.store.get(job_id)
        if job is not None and job.status is JobStatus.IN_PROGRESS and resume_interrupted:
            job = self._resume(job)
        if job is None or job.status is not JobStatus.QUEUED:
            return None  # cancelled or deleted while it waited
        if job.cancel_requested:
            return self._end(job, cancelled=True)
        started = job.start(self._clock())
        if not self.store.save(started, expect=JobStatus.QUEUED):
            return None
        token = CancelToken()
        self.cancellations.register(job_id, token)
        began = time.monotonic()
        audio_seconds = 0.0
        sink = _JobSink(self, started, final_decoded=True)
        self.events.publish(
            job_id, "job.in_progress", {"attempt": started.attempts}, run=started.attempts
        )
        try:
            sink.on_progress(0.0, "decoding")
            with self.blobs.open(audio_key(job_id)) as upload, self._charging(job):
                audio = self._transcribe.decode(upload)
            audio_seconds = audio.duration
            token.raise_if_cancelled()
            options = self._options.build(request_from_dict(job.request))
            sink = _JobSink(self, sink.job, final_decoded=not options.diarize)
            transcript = self._transcribe.transcribe(audio, options, sink, token)
            self.blobs.put_bytes(
                result_key(job_id), json.dumps(transcript_to_dict(transcript)).encode()
            )
            usage = JobUsage(audio_seconds, round(time.monotonic() - began, 3))
            return self._end(sink.job, usage=usage)
        except Cancelled:
            if job_id in self._handed_back:
                log.info("job %s: stopped by the shutdown; handed back to the queue", job_id)
                return None
            if self._stop.is_set() and job.background and not self._cancel_asked(job_id):
                # Shutting down: back to the queue for the next start (as after a crash).
                current = self.store.get(job_id)
                if current is not None and current.status is JobStatus.IN_PROGRESS:
                    self.store.save(current.requeue(), expect=JobStatus.IN_PROGRESS)
                log.info(
                    "job %s interrupted by the shutdown; it runs again at the next start", job_id
                )
                return None
            return self._end(sink.job, cancelled=True, usage=self._usage(audio_seconds, began))
        except ScribeError as exc:
            return self._end(sink.job, error=exc, usage=self._usage(audio_seconds, began))
        except Exception:
            log.exception("job %s failed", job_id)
            error = ScribeError("The server failed unexpectedly; see its log.")
            return self._end(sink.job, error=error, usage=self._usage(audio_seconds, began))
        finally:
            self.cancellations.unregister(job_id)
            self.run_times.record(time.monotonic() - began)

    def _cancel_asked(self, job_id: str) -> bool:
        job = self.store.get(job_id)
        return job is None or job.cancel_requested

    @staticmethod
    def _usage(audio_seconds: float, began: float) -> JobUsage | None:
        if not audio_seconds:
            return None
        return JobUsage(audio_seconds, round(time.monotonic() - began, 3))

    def _end(
        self,
        job: Job,
        *,
        usage: JobUsage | None = None,
        error: ScribeError | None = None,
        cancelled: bool = False,
    ) -> Job:
        """Record how the job ended (its callback with it), tell its followers, record usage."""
        now = self._clock()
        current = self.store.get(job.id) or job
        if current.status.terminal or job.id in self._handed_back:
            return current
        if cancelled or (error is None and usage is None):
            ended = current.cancel(now)
            if usage is not None:
                ended = replace(ended, usage=usage)
        elif error is not None:
            ended = current.fail(now, JobError.of(error), usage)
        else:
            assert usage is not None
            ended = current.complete(now, usage)
        if not self.store.save(ended, expect=current.status):
            return self.store.get(job.id) or ended
        data: dict[str, Any] = {}
        if ended.error is not None:
            data["error"] = {
                "kind": ended.error.kind,
                "message": ended.error.message,
                "code": ended.error.code,
                "param": ended.error.param,
            }
        self.events.publish(job.id, terminal_event_type(ended.status), data, run=ended.attempts)
        log.info("job %s %s", job.id, ended.status.value)
        if ended.callback_url and self.callbacks is not None:
            self.callbacks.wake()  # the store queued its callback with the save
        if self._on_finished is not None:
            try:
                self._on_finished(ended)
            except Exception:
                log.exception("job %s: recording its usage failed", job.id)
        return ended

    # --- monitor ------------------------------------------------------------------------

    def _monitor(self) -> None:
        last_sweep = last_reconcile = 0.0
        while not self._stop.wait(MONITOR_SECONDS):
            try:
                for job_id in self.cancellations.running():
                    job = self.store.get(job_id)
                    if job is None or job.cancel_requested:
                        self.cancellations.cancel(job_id, "The job was cancelled.")
                    elif job.status.terminal:
                        # Ended by another process (an API node whose grace ran out while
                        # its client waited, say): this run's result could not be saved.
                        self.cancellations.cancel(job_id, "The job was ended elsewhere.")
                if time.monotonic() - last_sweep >= self._sweep_seconds:
                    last_sweep = time.monotonic()
                    self.sweep()
                if (
                    self._reconcile is not None
                    and time.monotonic() - last_reconcile >= self._reconcile_seconds
                ):
                    last_reconcile = time.monotonic()
                    self._reconcile()
            except Exception:
                log.exception("job monitor failed (trying again)")

    def sweep(self) -> int:
        """Delete jobs (record, audio, result, events) that ended more than the retention
        time ago; how many."""
        cutoff = self._clock() - self._retention
        count = 0
        while True:
            batch = self.store.finished_before(cutoff)
            if not batch:
                break
            for job in batch:
                self.blobs.delete_prefix(job.id)
                self.events.forget(job.id)
                self.store.delete(job.id)
                count += 1
        if count:
            log.info("retention: %d job(s) older than %s deleted", count, self._retention)
        return count
