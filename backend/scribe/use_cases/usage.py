"""Rate limits and usage metering per key: admit a request, charge its audio, record its use.

A request is admitted before its body is read: its minute's request count, the hour's audio
budget (for requests that carry audio) and a concurrency slot are checked, in that order. The
audio's duration is known only once it is decoded; the decoder then charges it to the request
that is running (``current_admission``), and the request's totals are recorded when it ends.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import BinaryIO, cast

from scribe.domain.audio import Audio
from scribe.domain.caller import ANONYMOUS_KEY_ID, Caller
from scribe.domain.errors import InvalidAudio, PermissionDenied, RateLimited
from scribe.domain.limits import WindowState
from scribe.domain.usage import UsageDay, UsageEntry
from scribe.ports.audio_decoder import AudioDecoder
from scribe.ports.rate_limiter import RateLimiter
from scribe.ports.usage_meter import UsageMeter

log = logging.getLogger(__name__)


def today() -> date:
    return datetime.now(UTC).date()


@dataclass
class Admission:
    """One admitted request: what it was granted and what it used."""

    caller: Caller
    consumes_audio: bool
    started: float = field(default_factory=time.monotonic)
    requests: WindowState | None = None
    audio: WindowState | None = None
    audio_seconds: float = 0.0
    slot: bool = False
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


current_admission: ContextVar[Admission | None] = ContextVar("current_admission", default=None)


class Metering:
    """Admits requests under each key's limits and records what they used."""

    def __init__(
        self,
        limiter: RateLimiter,
        meter: UsageMeter,
        *,
        clock: Callable[[], float] = time.monotonic,
        day: Callable[[], date] = today,
    ) -> None:
        self._limiter = limiter
        self._meter = meter
        self._clock = clock
        self._day = day

    def admit(self, caller: Caller, *, consumes_audio: bool) -> Admission:
        """Count the request and, when it carries audio, take a concurrency slot; raises
        RateLimited when a limit is reached (nothing is then held). Reads (job status, event
        streams, results) take no slot: a page following four jobs must still be able to cancel."""
        policy = caller.limits
        admission = Admission(caller, consumes_audio, started=self._clock())
        if policy.requests_per_minute:
            state = self._limiter.hit_request(caller.key_id, policy.requests_per_minute)
            admission.requests = state
            if not state.allowed:
                raise RateLimited(
                    f"Rate limit reached for requests: {state.limit} per minute for this key. "
                    f"Try again in {_seconds(state.reset_after)}.",
                    retry_after=state.reset_after,
                    kind="requests",
                    window=state,
                )
        if consumes_audio and policy.audio_seconds_per_hour:
            state = self._limiter.audio_budget(caller.key_id, policy.audio_seconds_per_hour)
            admission.audio = state
            if state.remaining <= 0:
                raise RateLimited(
                    "Rate limit reached for audio: this key may send "
                    f"{state.limit / 60:g} minutes of audio per hour. "
                    f"Try again in {_seconds(state.reset_after)}.",
                    retry_after=state.reset_after,
                    kind="audio_seconds",
                    window=state,
                )
        if consumes_audio and policy.concurrent_requests:
            if not self._limiter.acquire_slot(caller.key_id, policy.concurrent_requests):
                raise RateLimited(
                    f"Too many concurrent requests: this key may have "
                    f"{policy.concurrent_requests} in progress at once. Try again when one "
                    "has finished.",
                    retry_after=1,
                    kind="concurrent_requests",
                )
            admission.slot = True
        return admission

    def charge_audio(self, admission: Admission, seconds: float) -> None:
        """Charge decoded audio to the request (and its key's hourly budget)."""
        policy = admission.caller.limits
        with admission.lock:
            admission.audio_seconds += seconds
        if policy.audio_seconds_per_hour:
            admission.audio = self._limiter.charge_audio(
                admission.caller.key_id, policy.audio_seconds_per_hour, seconds
            )

    def charge_current(self, seconds: float) -> None:
        """Charge decoded audio to the request this thread works for, if any."""
        admission = current_admission.get()
        if admission is not None:
            self.charge_audio(admission, seconds)

    def finish(self, admission: Admission, *, failed: bool) -> None:
        """Release the request's slot and record its usage (once; later calls do nothing)."""
        with admission.lock:
            if admission.finished:
                return
            admission.finished = True
        if admission.slot:
            try:
                self._limiter.release_slot(admission.caller.key_id)
            except Exception:
                log.warning("could not release a concurrency slot of %s", admission.caller.name)
        entry = UsageEntry(
            key_id=admission.caller.key_id,
            day=self._day(),
            requests=1,
            audio_seconds=admission.audio_seconds,
            processing_seconds=max(0.0, self._clock() - admission.started),
            failures=1 if failed else 0,
        )
        try:
            self._meter.record(entry)
        except Exception:  # metering must not turn a served request into an error
            log.exception("could not record usage of key %s", admission.caller.key_id)

    def record_job(
        self, key_id: str | None, audio_seconds: float, processing_seconds: float, *, failed: bool
    ) -> None:
        """Record what a background job used (its submitting request counted the request
        itself, before the audio was decoded)."""
        entry = UsageEntry(
            key_id=key_id or ANONYMOUS_KEY_ID,
            day=self._day(),
            requests=0,
            audio_seconds=audio_seconds,
            processing_seconds=processing_seconds,
            failures=1 if failed else 0,
        )
        try:
            self._meter.record(entry)
        except Exception:
            log.exception("could not record usage of key %s", entry.key_id)

    @contextmanager
    def charging(self, caller: Callable[[], Caller]) -> Iterator[None]:
        """Audio decoded in the block is charged to the hourly budget of ``caller()``, for work
        whose request is not here to be charged (a job on a worker, or after a restart). Inside
        a request's own context it changes nothing (that request is charged, once) and
        ``caller`` is not called."""
        if current_admission.get() is not None:
            yield
            return
        with self.running(Admission(caller(), consumes_audio=True, started=self._clock())):
            yield

    @contextmanager
    def running(self, admission: Admission) -> Iterator[Admission]:
        """Make ``admission`` the current one (decoders charge it) for the ``with`` block."""
        token = current_admission.set(admission)
        try:
            yield admission
        finally:
            current_admission.reset(token)


class UsageReports:
    """Usage per key and day: a key sees its own; an admin key sees every key's."""

    def __init__(self, meter: UsageMeter) -> None:
        self._meter = meter

    def days(
        self, caller: Caller, *, since: date | None = None, key_id: str | None = None
    ) -> list[UsageDay]:
        if not caller.is_admin:
            if key_id not in (None, caller.key_id):
                raise PermissionDenied("A key may only read its own usage.")
            key_id = caller.key_id
        return self._meter.days(since=since, key_id=key_id)


class MeteredDecoder:
    """An ``AudioDecoder`` around another: gives up on uploads that take longer than
    ``max_seconds`` to decode, and charges the decoded duration to the current request."""

    def __init__(
        self,
        inner: AudioDecoder,
        *,
        on_decoded: Callable[[float], None] | None = None,
        max_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._on_decoded = on_decoded
        self._max_seconds = max_seconds
        self._clock = clock

    def decode(self, source: BinaryIO) -> Audio:
        if self._max_seconds is not None:
            deadline = self._clock() + self._max_seconds
            source = cast(
                BinaryIO, _DeadlineReader(source, deadline, self._max_seconds, self._clock)
            )
        audio = self._inner.decode(source)
        if self._on_decoded is not None:
            self._on_decoded(audio.duration)
        return audio


class _DeadlineReader(io.RawIOBase):
    """A file object that refuses to be read past a deadline (the decoder reads as it goes)."""

    def __init__(
        self, source: BinaryIO, deadline: float, limit: float, clock: Callable[[], float]
    ) -> None:
        super().__init__()
        self._source = source
        self._deadline = deadline
        self._limit = limit
        self._clock = clock

    def _check(self) -> None:
        if self._clock() > self._deadline:
            raise InvalidAudio(
                f"Decoding the upload took longer than this server allows ({self._limit:g} s, "
                "SCRIBE_MAX_DECODE_SECONDS). Upload a shorter recording or a common format.",
                code="decode_timeout",
            )

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        try:
            return bool(self._source.seekable())
        except (AttributeError, OSError, ValueError):
            return False

    def read(self, size: int = -1) -> bytes:
        self._check()
        return self._source.read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check()
        return self._source.seek(offset, whence)

    def tell(self) -> int:
        return self._source.tell()


def _seconds(value: float) -> str:
    whole = max(1, round(value))
    return f"{whole} s" if whole < 120 else f"{whole // 60} min {whole % 60} s"
