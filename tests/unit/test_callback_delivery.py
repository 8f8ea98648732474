"""CallbackDelivery over the fake outbox (FakeJobStore) with a recording sender and a clock the
test moves: one attempt per claim, backoff, giving up, leases that run out and are claimed
again, and two deliverers that never send one callback twice while a lease holds."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from scribe.domain.callbacks import CallbackStatus, SendOutcome
from scribe.domain.jobs import Job, JobUsage
from scribe.domain.options import Task
from scribe.use_cases.callback_delivery import CallbackDelivery, CallbackPolicy
from tests.fakes import FakeJobStore

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
POLICY = CallbackPolicy(max_attempts=3, backoff_seconds=2.0, backoff_max_seconds=60.0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Sender:
    """Answers with the outcomes given, in turn (then 2xx); records every send."""

    def __init__(self, *outcomes: SendOutcome, hold: asyncio.Event | None = None) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[tuple[str, str, str, datetime]] = []
        self.hold = hold

    def check_url(self, url: str) -> None:
        pass

    async def send(
        self,
        url: str,
        event_type: str,
        data: Mapping[str, Any],
        *,
        webhook_id: str,
        timestamp: datetime,
    ) -> SendOutcome:
        self.sent.append((webhook_id, event_type, data["id"], timestamp))
        return self.outcomes.pop(0) if self.outcomes else SendOutcome(True)


def ended_job(store: FakeJobStore, n: int = 1) -> Job:
    job = Job(f"job_{n}", None, Task.TRANSCRIBE, "m", {}, T0, callback_url="https://x.test/h")
    store.add(job)
    done = job.start(T0).complete(T0, JobUsage(1, 1))
    assert store.save(done)
    return done


def deliverer(
    store: FakeJobStore, sender: Sender, clock: Clock, name: str = "a"
) -> CallbackDelivery:
    return CallbackDelivery(
        store, sender, holder=name, policy=POLICY, clock=clock, rng=random.Random(0)
    )


def state(store: FakeJobStore, job_id: str) -> Any:
    job = store.get(job_id)
    assert job is not None and job.callback is not None
    return job.callback


def test_an_ended_job_is_sent_once_with_its_event_fixed() -> None:
    store, clock, sender = FakeJobStore(), Clock(), Sender()
    job = ended_job(store)
    assert store.save(job)  # a second save of the ended job queues nothing more
    assert state(store, job.id).status is CallbackStatus.PENDING
    delivery = deliverer(store, sender, clock)
    assert delivery.deliver_due() == 1
    assert delivery.deliver_due() == 0
    [(webhook_id, event_type, job_id, timestamp)] = sender.sent
    assert webhook_id.startswith("msg_") and event_type == "audio.job.completed"
    assert job_id == job.id and timestamp == job.finished_at
    shown = state(store, job.id)
    assert shown.status is CallbackStatus.DELIVERED and shown.attempts == 1
    assert shown.delivered_at == clock.now


def test_failures_back_off_then_give_up_after_max_attempts() -> None:
    store, clock = FakeJobStore(), Clock()
    sender = Sender(*[SendOutcome(False, "HTTP 503", retry_after=None)] * 5)
    job = ended_job(store)
    delivery = deliverer(store, sender, clock)
    assert delivery.deliver_due() == 1
    shown = state(store, job.id)
    assert shown.status is CallbackStatus.PENDING and shown.last_error == "HTTP 503"
    assert delivery.deliver_due() == 0  # not due before its backoff (1 to 2 s)
    clock.advance(2.0)
    assert delivery.deliver_due() == 1
    assert delivery.deliver_due() == 0
    clock.advance(4.0)  # second backoff: 2 to 4 s
    assert delivery.deliver_due() == 1
    clock.advance(3600)
    assert delivery.deliver_due() == 0  # three attempts: given up
    shown = state(store, job.id)
    assert shown.status is CallbackStatus.FAILED and shown.attempts == 3
    assert len(sender.sent) == 3 and len({s[0] for s in sender.sent}) == 1  # one webhook-id


def test_a_receivers_retry_after_is_honoured_and_a_refusal_is_final() -> None:
    store, clock = FakeJobStore(), Clock()
    sender = Sender(SendOutcome(False, "HTTP 429", retry_after=30.0))
    job = ended_job(store, 1)
    delivery = deliverer(store, sender, clock)
    delivery.deliver_due()
    clock.advance(29)
    assert delivery.deliver_due() == 0
    clock.advance(1)
    assert delivery.deliver_due() == 1
    assert state(store, job.id).status is CallbackStatus.DELIVERED
    refused = ended_job(store, 2)
    sender.outcomes = [SendOutcome(False, "HTTP 410", retryable=False)]
    delivery.deliver_due()
    shown = state(store, refused.id)
    assert shown.status is CallbackStatus.FAILED and shown.attempts == 1
    assert shown.last_error == "HTTP 410"


def test_a_lease_keeps_others_off_until_it_runs_out_then_another_process_sends() -> None:
    store, clock = FakeJobStore(), Clock()
    job = ended_job(store)
    # Process a claims it and dies before any outcome is recorded.
    [claimed] = store.claim("a", clock(), lease_seconds=POLICY.lease_seconds, limit=10)
    other = Sender()
    b = deliverer(store, other, clock, "b")
    assert b.deliver_due() == 0 and other.sent == []  # a's lease holds
    clock.advance(POLICY.lease_seconds + 1)
    assert b.deliver_due() == 1
    [(webhook_id, *_)] = other.sent
    assert webhook_id == claimed.webhook_id  # the same message: receivers can de-duplicate
    shown = state(store, job.id)
    assert shown.status is CallbackStatus.DELIVERED and shown.attempts == 2
    # a comes back late: its outcome is not recorded over b's.
    assert not store.retry(claimed.webhook_id, "a", "late", clock())
    assert state(store, job.id).status is CallbackStatus.DELIVERED


def test_two_deliverers_at_once_never_send_one_callback_twice() -> None:
    store, clock = FakeJobStore(), Clock()
    for n in range(40):
        ended_job(store, n)
    sa, sb = Sender(), Sender()
    a, b = deliverer(store, sa, clock, "a"), deliverer(store, sb, clock, "b")

    async def both() -> None:
        # Each round claims from the same outbox at the same moment.
        await asyncio.gather(a._round(), b._round(), a._round(), b._round())

    asyncio.run(both())
    sent = [s[2] for s in sa.sent + sb.sent]
    assert sorted(sent) == sorted(f"job_{n}" for n in range(40))  # each exactly once


def test_the_loop_thread_delivers_when_woken() -> None:
    store, clock, sender = FakeJobStore(), Clock(), Sender()
    delivery = CallbackDelivery(
        store,
        sender,
        holder="a",
        policy=CallbackPolicy(poll_seconds=30.0),
        clock=clock,
    )
    delivery.start()
    try:
        job = ended_job(store)
        delivery.wake()
        for _ in range(200):
            if state(store, job.id).status is CallbackStatus.DELIVERED:
                break
            asyncio.run(asyncio.sleep(0.01))
        assert state(store, job.id).status is CallbackStatus.DELIVERED
    finally:
        delivery.stop()


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = CallbackPolicy(backoff_seconds=2, backoff_max_seconds=30)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (9, 30), (500, 30)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert min(delays) >= ceiling / 2
        assert max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not one fixed value


def test_a_retry_after_is_kept_within_the_longest_backoff() -> None:
    policy = CallbackPolicy(backoff_seconds=2, backoff_max_seconds=30)
    rng = random.Random(7)
    assert policy.delay(1, rng, retry_after=20.0) == 20.0  # longer than the backoff: honoured
    assert policy.delay(1, rng, retry_after=3600.0) == 30.0  # capped
    assert 1.0 <= policy.delay(1, rng, retry_after=0.0) <= 2.0  # shorter: the backoff
