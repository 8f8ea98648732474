"""CallbackDelivery: sends the job callbacks waiting in the outbox, from whichever process is up.

Every process that has the job store runs one (``scribe serve``, API nodes, workers). Each round
claims the callbacks that are due with a lease, sends them all at once with one attempt each
(on an event loop of its own: the sender is async), and records the outcome: delivered, due
again after a backoff, or failed for good after ``max_attempts`` or a refusal that another
attempt would not change. A process that dies mid-send leaves a lease that runs out: another
process sends the event again, with the same ``webhook-id`` (delivery is at least once).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from scribe.domain.callbacks import DueCallback, SendOutcome
from scribe.ports.callback_outbox import CallbackOutbox
from scribe.ports.webhooks import WebhookSender

from .jobs import utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackPolicy:
    """How patiently callbacks are sent, and how the outbox is read."""

    max_attempts: int = 8
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 600.0
    # Longer than one attempt may take (the sender's timeout), so that a lease outlives a send.
    lease_seconds: float = 60.0
    poll_seconds: float = 1.0
    batch: int = 50

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds before the attempt after attempt number ``attempt``: doubling from
        ``backoff_seconds``, capped, with equal jitter (half to all of it); at least the
        receiver's Retry-After, within the cap."""
        ceiling = min(self.backoff_max_seconds, self.backoff_seconds * 2.0 ** min(attempt - 1, 60))
        wait = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.backoff_max_seconds)


class CallbackDelivery:
    """Delivers due callbacks in a thread of its own; ``deliver_due`` runs one round."""

    def __init__(
        self,
        outbox: CallbackOutbox,
        sender: WebhookSender,
        *,
        holder: str,
        policy: CallbackPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self._outbox = outbox
        self._sender = sender
        self.holder = holder
        self.policy = policy or CallbackPolicy()
        self._clock = clock
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="callbacks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the round in flight (a lease left by a send cut short runs out, and the
        event is sent again, by this process's next start or another process)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout)

    def wake(self) -> None:
        """Look at the outbox now (a job just ended in this process) rather than at the next
        poll."""
        self._wake.set()

    def _loop(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    sent = loop.run_until_complete(self._round())
                except Exception:
                    log.exception("callback delivery failed (trying again)")
                    sent = 0
                if sent < self.policy.batch:  # a full batch: more may be due at once
                    self._wake.wait(self.policy.poll_seconds)
        finally:
            loop.close()

    # --- delivery -----------------------------------------------------------------------

    def deliver_due(self) -> int:
        """One round (claim, send, record) on a fresh event loop; how many were claimed."""
        return asyncio.run(self._round())

    async def _round(self) -> int:
        policy = self.policy
        due = await asyncio.to_thread(
            self._outbox.claim,
            self.holder,
            self._clock(),
            lease_seconds=policy.lease_seconds,
            limit=policy.batch,
        )
        if due:
            await asyncio.gather(*(self._send(callback) for callback in due))
        return len(due)

    async def _send(self, callback: DueCallback) -> None:
        try:
            outcome = await self._sender.send(
                callback.url,
                callback.event_type,
                callback.payload,
                webhook_id=callback.webhook_id,
                timestamp=callback.created_at,
            )
        except Exception as exc:  # the port says it never raises; a bug must not stop the loop
            log.exception("callback %s: the sender failed", callback.webhook_id)
            outcome = SendOutcome(False, f"unexpected error: {type(exc).__name__}")
        await asyncio.to_thread(self._record, callback, outcome)

    def _record(self, callback: DueCallback, outcome: SendOutcome) -> None:
        holder, now = self.holder, self._clock()
        what = f"callback {callback.webhook_id} of job {callback.job_id}"
        if outcome.ok:
            kept = self._outbox.delivered(callback.webhook_id, holder, now)
        elif not outcome.retryable or callback.attempts >= self.policy.max_attempts:
            error = outcome.error or "failed"
            log.error("%s: giving up after %d attempt(s): %s", what, callback.attempts, error)
            kept = self._outbox.give_up(callback.webhook_id, holder, error)
        else:
            wait = self.policy.delay(callback.attempts, self._rng, outcome.retry_after)
            at = now + timedelta(seconds=wait)
            kept = self._outbox.retry(callback.webhook_id, holder, outcome.error or "failed", at)
        if not kept:
            log.warning("%s: its lease ran out before the outcome was recorded", what)
