"""Metering: admission under each limit, audio charged after decoding, slots given back, usage
recorded; the usage report's permissions; the decoder's time limit."""

from __future__ import annotations

import io
import threading
from datetime import date
from typing import BinaryIO

import numpy as np
import pytest

from scribe.domain.audio import Audio
from scribe.domain.caller import Caller, Scope
from scribe.domain.errors import InvalidAudio, PermissionDenied, RateLimited
from scribe.domain.limits import RatePolicy
from scribe.use_cases.usage import MeteredDecoder, Metering, UsageReports, current_admission
from tests.fakes import FakeDecoder, FakeRateLimiter, FakeUsageMeter, wav_bytes

DAY = date(2025, 3, 2)


def caller(
    rpm: int = 0, audio: int = 0, concurrent: int = 0, scope: Scope = Scope.TRANSCRIBE
) -> Caller:
    return Caller("key_a", "a", scope, RatePolicy(rpm, audio, concurrent))


def metering() -> tuple[Metering, FakeRateLimiter, FakeUsageMeter]:
    limiter, meter = FakeRateLimiter(), FakeUsageMeter()
    clock = iter(float(i) for i in range(1000))
    return Metering(limiter, meter, clock=lambda: next(clock), day=lambda: DAY), limiter, meter


def test_requests_per_minute() -> None:
    m, _, _ = metering()
    for _ in range(2):
        m.finish(m.admit(caller(rpm=2), consumes_audio=False), failed=False)
    with pytest.raises(RateLimited) as error:
        m.admit(caller(rpm=2), consumes_audio=False)
    assert error.value.kind == "requests" and error.value.retry_after == 30
    assert error.value.code == "rate_limit_exceeded" and "2 per minute" in error.value.message


def test_audio_is_refused_up_front_once_the_hour_is_spent_and_charged_after_decoding() -> None:
    m, limiter, meter = metering()
    first = m.admit(caller(audio=10), consumes_audio=True)
    with m.running(first):
        m.charge_current(12.5)  # what the decoder does: more than was left, charged anyway
    m.finish(first, failed=False)
    assert limiter.audio["key_a"] == 12.5
    assert first.audio is not None and first.audio.remaining == 0
    m.finish(m.admit(caller(audio=10), consumes_audio=False), failed=False)  # no audio: fine
    with pytest.raises(RateLimited) as error:
        m.admit(caller(audio=10), consumes_audio=True)
    assert error.value.kind == "audio_seconds"
    assert meter.entries[0].audio_seconds == 12.5


def test_concurrency_slots_come_back_whatever_happens() -> None:
    m, limiter, _ = metering()
    held = m.admit(caller(concurrent=1), consumes_audio=True)
    with pytest.raises(RateLimited) as error:
        m.admit(caller(concurrent=1), consumes_audio=True)
    assert error.value.kind == "concurrent_requests"
    m.finish(held, failed=True)
    m.finish(held, failed=True)  # twice: released and recorded once
    assert limiter.released == ["key_a"]
    m.finish(m.admit(caller(concurrent=1), consumes_audio=True), failed=False)


def test_reads_take_no_concurrency_slot() -> None:
    m, limiter, _ = metering()
    held = m.admit(caller(concurrent=1), consumes_audio=True)
    for _ in range(3):  # status polls and event streams while the job runs
        m.finish(m.admit(caller(concurrent=1), consumes_audio=False), failed=False)
    m.finish(held, failed=False)
    assert limiter.released == ["key_a"]


def test_usage_is_recorded_with_time_and_failures() -> None:
    m, _, meter = metering()
    m.finish(m.admit(caller(), consumes_audio=False), failed=True)
    (entry,) = meter.entries
    assert (entry.key_id, entry.day, entry.requests, entry.failures) == ("key_a", DAY, 1, 1)
    assert entry.processing_seconds == 1.0


def test_charging_outside_a_request_does_nothing() -> None:
    m, limiter, _ = metering()
    assert current_admission.get() is None
    m.charge_current(5.0)
    assert limiter.audio == {}


def test_a_key_reads_its_own_usage_and_an_admin_every_key() -> None:
    meter = FakeUsageMeter({"key_a": "a", "key_b": "b"})
    m = Metering(FakeRateLimiter(), meter, day=lambda: DAY)
    for key_id in ("key_a", "key_b"):
        m.finish(
            m.admit(Caller(key_id, key_id, Scope.TRANSCRIBE), consumes_audio=False), failed=False
        )
    reports = UsageReports(meter)
    assert [d.key_id for d in reports.days(caller())] == ["key_a"]
    with pytest.raises(PermissionDenied):
        reports.days(caller(), key_id="key_b")
    admin = caller(scope=Scope.ADMIN)
    assert [d.key_id for d in reports.days(admin)] == ["key_a", "key_b"]
    assert [d.key_id for d in reports.days(admin, key_id="key_b")] == ["key_b"]


def test_the_metered_decoder_charges_the_request_that_decodes() -> None:
    m, limiter, _ = metering()
    decoder = MeteredDecoder(FakeDecoder(), on_decoded=m.charge_current)
    admission = m.admit(caller(audio=100), consumes_audio=True)
    seen: list[float] = []

    def in_a_worker_thread() -> None:  # as run_in_threadpool runs it: the context is copied
        seen.append(decoder.decode(io.BytesIO(wav_bytes(2))).duration)

    with m.running(admission):
        import contextvars

        ctx = contextvars.copy_context()
        thread = threading.Thread(target=ctx.run, args=(in_a_worker_thread,))
        thread.start()
        thread.join()
    assert seen == [2.0] and admission.audio_seconds == 2.0 and limiter.audio["key_a"] == 2.0


def test_decoding_that_takes_too_long_is_refused() -> None:
    class ChunkReader:
        """Reads its source 100 bytes at a time, as a real decoder reads as it goes."""

        def decode(self, source: BinaryIO) -> Audio:
            while source.read(100):
                pass
            return Audio(np.zeros(16000, dtype=np.float32))

    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    decoder = MeteredDecoder(ChunkReader(), max_seconds=10, clock=clock)
    assert decoder.decode(io.BytesIO(b"x" * 500)).duration == 1.0  # 6 reads: in time
    with pytest.raises(InvalidAudio) as error:
        decoder.decode(io.BytesIO(b"x" * 5000))
    assert error.value.code == "decode_timeout" and "10 s" in error.value.message
