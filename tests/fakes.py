"""Small recording fakes of the ports, for use-case and API tests (no models, no audio codecs)."""

from __future__ import annotations

import collections
import io
import threading
import time
import wave
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

import numpy as np

from scribe.bootstrap import Overrides, Services, build_services
from scribe.config import Settings
from scribe.domain.audio import SAMPLE_RATE, Audio
from scribe.domain.callbacks import (
    CallbackStatus,
    DueCallback,
    JobCallback,
    SendOutcome,
    callback_event_type,
    new_webhook_id,
)
from scribe.domain.caller import ANONYMOUS_KEY_ID
from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import InvalidAudio, InvalidRequest, NotFound
from scribe.domain.jobs import Job, JobStatus
from scribe.domain.keys import ApiKey
from scribe.domain.limits import WindowState
from scribe.domain.options import KnownSpeaker, SpeakerHints, Task, TranscriptionOptions
from scribe.domain.transcript import AsrResult, Diarization, Segment, SpeakerTurn, Word
from scribe.domain.usage import UsageDay, UsageEntry
from scribe.ports.asr_engine import AsrCapabilities, SegmentCallback
from scribe.ports.post_processor import PostProcessor
from scribe.ports.webhooks import WebhookSender


def wav_bytes(seconds: float, rate: int = SAMPLE_RATE) -> bytes:
    """A short mono 16-bit WAV of a quiet tone."""
    t = np.arange(int(seconds * rate)) / rate
    return encode_wav(0.1 * np.sin(2 * np.pi * 220 * t), rate)


def encode_wav(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """Float samples in [-1, 1] as a mono 16-bit WAV."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


class FakeDecoder:
    """Reads 16-bit mono WAV with the stdlib; anything else is InvalidAudio."""

    def __init__(self) -> None:
        self.calls = 0

    def decode(self, source: BinaryIO) -> Audio:
        self.calls += 1
        data = source.read()
        if not data:
            raise InvalidAudio("The uploaded file is empty.", code="empty_file")
        try:
            with wave.open(io.BytesIO(data)) as wav:
                frames = wav.readframes(wav.getnframes())
        except (wave.Error, EOFError) as exc:
            raise InvalidAudio(f"Not audio: {exc}") from None
        samples = (np.frombuffer(frames, dtype="<i2") / 32768).astype(np.float32)
        return Audio(samples)


def words_over(text: str, start: float, end: float) -> tuple[Word, ...]:
    tokens = text.split()
    step = (end - start) / max(1, len(tokens))
    return tuple(
        Word(start + i * step, start + (i + 1) * step, " " + token, probability=0.9)
        for i, token in enumerate(tokens)
    )


class InFlight:
    """Counts calls in progress and remembers the most seen at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self.now -= 1


@dataclass
class FakeAsr:
    """Returns scripted segments (text spread evenly over each span) and records its calls.

    With ``barrier`` set, each call waits there (a few seconds at most) for its partner, e.g. a
    FakeDiarizer holding the same barrier: the call only gets through if both run at once.
    """

    script: Sequence[tuple[float, float, str]] = (
        (0.0, 2.0, "Hello there, how are you?"),
        (2.0, 4.0, "I am fine, thank you."),
    )
    name: str = "fake-asr"
    language: str = "en"
    capabilities: AsrCapabilities = field(
        default_factory=lambda: AsrCapabilities(
            translate=True, word_probabilities=True, languages=frozenset({"en", "fr"})
        )
    )
    delay: float = 0.0
    barrier: threading.Barrier | None = None
    calls: list[TranscriptionOptions] = field(default_factory=list)
    in_flight: InFlight = field(default_factory=InFlight)
    loaded: bool = False

    def load(self) -> None:
        self.loaded = True

    def transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        on_segment: SegmentCallback | None = None,
    ) -> AsrResult:
        self.calls.append(options)
        if self.barrier is not None:
            self.barrier.wait(timeout=5)
        with self.in_flight:
            return self._transcribe(audio, options, on_segment)

    def _transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        on_segment: SegmentCallback | None,
    ) -> AsrResult:
        if options.language not in (None, *(self.capabilities.languages or ())):
            raise InvalidRequest(f"Unsupported language '{options.language}'.", param="language")
        segments = []
        for i, (start, end, text) in enumerate(self.script):
            if start >= audio.duration:
                break
            time.sleep(self.delay / max(1, len(self.script)))
            if options.task is Task.TRANSLATE:
                text = f"[en] {text}"
            words = words_over(text, start, end) if options.needs_word_times else ()
            segment = Segment(
                id=i, start=start, end=min(end, audio.duration), text=" " + text, words=words
            )
            segments.append(segment)
            if on_segment is not None:
                on_segment(segment)
        return AsrResult(self.language, audio.duration, tuple(segments))


class StopAfter(CancelToken):
    """A cancel token that counts the checks made of it and cancels itself at the ``n``-th."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n, self.checks = n, 0
        self._count = threading.Lock()  # the work may check from several threads

    def raise_if_cancelled(self) -> None:
        with self._count:
            self.checks += 1
            if self.checks >= self.n:
                self.cancel("stop")
        super().raise_if_cancelled()


@dataclass
class FakeDiarizer:
    """Returns scripted turns, with a made-up voiceprint per label, and records the hints it got
    and the voiceprints ``identify`` was handed (``barrier``: see FakeAsr)."""

    turns: Sequence[SpeakerTurn] = (
        SpeakerTurn(0.0, 2.0, "b"),
        SpeakerTurn(2.0, 4.0, "a"),
    )
    name: str = "fake-diarizer"
    barrier: threading.Barrier | None = None
    hints: list[SpeakerHints] = field(default_factory=list)
    identified: list[tuple[str, ...]] = field(default_factory=list)
    reused_voiceprints: list[tuple[str, ...]] = field(default_factory=list)
    cancel_tokens: list[CancelToken | None] = field(default_factory=list)
    loaded: bool = False

    def load(self) -> None:
        self.loaded = True

    def diarize(
        self, audio: Audio, hints: SpeakerHints, cancel: CancelToken | None = None
    ) -> Diarization:
        self.hints.append(hints)
        self.cancel_tokens.append(cancel)
        if self.barrier is not None:
            self.barrier.wait(timeout=5)
        turns = tuple(t for t in self.turns if t.start < audio.duration)
        labels = dict.fromkeys(t.speaker for t in turns)
        return Diarization(turns, {label: (float(i), 1.0) for i, label in enumerate(labels)})

    def identify(
        self, audio: Audio, diarization: Diarization, known: Sequence[KnownSpeaker]
    ) -> dict[str, str]:
        self.identified.append(tuple(k.name for k in known))
        self.reused_voiceprints.append(tuple(diarization.voiceprints))
        labels = list(dict.fromkeys(t.speaker for t in diarization.turns))
        return {label: k.name for label, k in zip(labels, known, strict=False)}


@dataclass
class RecordingProgress:
    segments: list[Segment] = field(default_factory=list)
    progress: list[tuple[float, str]] = field(default_factory=list)
    attributed: list[Segment] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_segment(self, segment: Segment) -> None:
        self.segments.append(segment)

    def on_attributed(self, segment: Segment) -> None:
        self.attributed.append(segment)

    def on_progress(self, fraction: float, stage: str) -> None:
        with self.lock:
            self.progress.append((fraction, stage))


class FakeKeyStore:
    """Keys in a dict; records how often it was asked."""

    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.lookups = 0
        self.touched: list[str] = []

    def add(self, key: ApiKey) -> None:
        assert key.key_id not in self.keys
        self.keys[key.key_id] = key

    def get(self, key_id: str) -> ApiKey | None:
        return self.keys.get(key_id)

    def with_prefix(self, prefix: str) -> list[ApiKey]:
        self.lookups += 1
        return [k for k in self.keys.values() if k.prefix == prefix]

    def all(self) -> list[ApiKey]:
        return sorted(self.keys.values(), key=lambda k: k.created_at)

    def any(self) -> bool:
        return bool(self.keys)

    def revoke(self, key_id: str, at: datetime) -> bool:
        key = self.keys.get(key_id)
        if key is None or key.revoked_at is not None:
            return False
        self.keys[key_id] = replace(key, revoked_at=at)
        return True

    def touch(self, key_id: str, at: datetime) -> None:
        self.touched.append(key_id)
        self.keys[key_id] = replace(self.keys[key_id], last_used_at=at)


class FakeUsageMeter:
    """Keeps every recorded entry; sums them per key and day."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.entries: list[UsageEntry] = []
        self.names = names if names is not None else {}
        self.lock = threading.Lock()

    def record(self, entry: UsageEntry) -> None:
        with self.lock:
            self.entries.append(entry)

    def days(self, *, since: date | None = None, key_id: str | None = None) -> list[UsageDay]:
        totals: dict[tuple[date, str], UsageDay] = {}
        for e in self.entries:
            if (since is not None and e.day < since) or (key_id is not None and e.key_id != key_id):
                continue
            old = totals.get((e.day, e.key_id))
            name = self.names.get(e.key_id, ANONYMOUS_KEY_ID)
            totals[(e.day, e.key_id)] = UsageDay(
                key_id=e.key_id,
                key_name=name,
                day=e.day,
                requests=e.requests + (old.requests if old else 0),
                audio_seconds=e.audio_seconds + (old.audio_seconds if old else 0.0),
                processing_seconds=e.processing_seconds + (old.processing_seconds if old else 0.0),
                failures=e.failures + (old.failures if old else 0),
            )
        return [totals[k] for k in sorted(totals)]


@dataclass
class FakeRateLimiter:
    """Counts without windows: ``requests``/``audio`` per key never reset unless told."""

    requests: dict[str, int] = field(default_factory=dict)
    audio: dict[str, float] = field(default_factory=dict)
    slots: dict[str, int] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)

    def hit_request(self, key_id: str, per_minute: int) -> WindowState:
        used = self.requests.get(key_id, 0)
        if used >= per_minute:
            return WindowState(per_minute, 0, 30.0, allowed=False)
        self.requests[key_id] = used + 1
        return WindowState(per_minute, per_minute - used - 1, 60.0)

    def audio_budget(self, key_id: str, seconds_per_hour: int) -> WindowState:
        left = seconds_per_hour - self.audio.get(key_id, 0.0)
        return WindowState(seconds_per_hour, max(0, int(left)), 1800.0)

    def charge_audio(self, key_id: str, seconds_per_hour: int, seconds: float) -> WindowState:
        self.audio[key_id] = self.audio.get(key_id, 0.0) + seconds
        return self.audio_budget(key_id, seconds_per_hour)

    def acquire_slot(self, key_id: str, limit: int) -> bool:
        if self.slots.get(key_id, 0) >= limit:
            return False
        self.slots[key_id] = self.slots.get(key_id, 0) + 1
        return True

    def release_slot(self, key_id: str) -> None:
        self.slots[key_id] -= 1
        self.released.append(key_id)


@dataclass
class OutboxEntry:
    """One callback in ``FakeJobStore``'s outbox (the columns of ``job_callbacks``)."""

    event: DueCallback
    status: CallbackStatus = CallbackStatus.PENDING
    next_attempt_at: datetime | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None


def _describe(job: Job) -> Mapping[str, Any]:
    from scribe.api.job_objects import job_object

    return job_object(job)


class FakeJobStore:
    """Jobs in a dict (the real store's semantics: compare-and-set saves, newest-first pages),
    and the CallbackOutbox its saves of ended jobs write to (under the same lock)."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.outbox: dict[str, OutboxEntry] = {}  # by job id
        self._lock = threading.Lock()

    def add(self, job: Job) -> None:
        with self._lock:
            self.jobs[job.id] = job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self.jobs.get(job_id)
            return None if job is None else self._with_callback(job)

    def _with_callback(self, job: Job) -> Job:
        entry = self.outbox.get(job.id)
        if entry is None:
            return job
        state = JobCallback(
            entry.event.url,
            entry.status,
            entry.event.attempts,
            entry.last_error,
            entry.delivered_at,
        )
        return replace(job, callback=state)

    def save(self, job: Job, *, expect: JobStatus | None = None) -> bool:
        with self._lock:
            stored = self.jobs.get(job.id)
            if stored is None or (expect is not None and stored.status is not expect):
                return False
            if stored.cancel_requested and not job.cancel_requested:
                job = replace(job, cancel_requested=True)  # sticky, as the SQL store
            self.jobs[job.id] = job
            if job.status.terminal and job.callback_url and job.id not in self.outbox:
                ended = job.finished_at or job.created_at
                shown = replace(job, callback=JobCallback(job.callback_url, CallbackStatus.PENDING))
                event = DueCallback(
                    new_webhook_id(),
                    job.id,
                    job.callback_url,
                    callback_event_type(job.status.value),
                    dict(_describe(shown)),
                    ended,
                    0,
                )
                self.outbox[job.id] = OutboxEntry(event, next_attempt_at=ended)
            return True

    def page(
        self,
        owner: str | None,
        *,
        limit: int,
        after: str | None = None,
        statuses: Sequence[JobStatus] = (),
    ) -> tuple[list[Job], bool]:
        with self._lock:
            jobs = sorted(self.jobs.values(), key=lambda j: (j.created_at, j.id), reverse=True)
            jobs = [self._with_callback(j) for j in jobs]
        jobs = [j for j in jobs if owner is None or j.owner == owner]
        jobs = [j for j in jobs if not statuses or j.status in statuses]
        if after is not None:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        return jobs[:limit], len(jobs) > limit

    def count_by_status(self) -> dict[JobStatus, int]:
        with self._lock:
            return dict(collections.Counter(j.status for j in self.jobs.values()))

    def with_status(self, statuses: Sequence[JobStatus]) -> list[Job]:
        with self._lock:
            found = [j for j in self.jobs.values() if j.status in statuses]
        return sorted(found, key=lambda j: (j.created_at, j.id))

    def finished_before(self, moment: datetime, limit: int = 100) -> list[Job]:
        with self._lock:
            found = [
                j
                for j in self.jobs.values()
                if j.finished_at is not None and j.finished_at < moment
            ]
        return sorted(found, key=lambda j: j.finished_at or moment)[:limit]

    def delete(self, job_id: str) -> bool:
        with self._lock:
            self.outbox.pop(job_id, None)
            return self.jobs.pop(job_id, None) is not None

    # --- CallbackOutbox -----------------------------------------------------------------

    def claim(
        self, holder: str, now: datetime, *, lease_seconds: float, limit: int
    ) -> list[DueCallback]:
        with self._lock:
            due = [
                e
                for e in self.outbox.values()
                if e.status is CallbackStatus.PENDING
                and e.next_attempt_at is not None
                and e.next_attempt_at <= now
                and (e.claimed_until is None or e.claimed_until < now)
            ]
            due.sort(key=lambda e: e.next_attempt_at or now)
            claimed = []
            for entry in due[:limit]:
                entry.claimed_by = holder
                entry.claimed_until = now + timedelta(seconds=lease_seconds)
                entry.event = replace(entry.event, attempts=entry.event.attempts + 1)
                claimed.append(entry.event)
            return claimed

    def _finish(self, webhook_id: str, holder: str, **changes: Any) -> bool:
        with self._lock:
            for entry in self.outbox.values():
                if entry.event.webhook_id == webhook_id:
                    if entry.claimed_by != holder or entry.status is not CallbackStatus.PENDING:
                        return False
                    entry.claimed_by = entry.claimed_until = None
                    for name, value in changes.items():
                        setattr(entry, name, value)
                    return True
            return False

    def delivered(self, webhook_id: str, holder: str, now: datetime) -> bool:
        return self._finish(webhook_id, holder, status=CallbackStatus.DELIVERED, delivered_at=now)

    def retry(self, webhook_id: str, holder: str, error: str, at: datetime) -> bool:
        return self._finish(webhook_id, holder, next_attempt_at=at, last_error=error)

    def give_up(self, webhook_id: str, holder: str, error: str) -> bool:
        return self._finish(webhook_id, holder, status=CallbackStatus.FAILED, last_error=error)


class FakeBlobStore:
    """Blobs in a dict; records the largest read size, to show uploads are copied in chunks."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.largest_read = 0
        self._lock = threading.Lock()

    def put(self, key: str, source: BinaryIO) -> int:
        parts = []
        while chunk := source.read(64 * 1024):
            self.largest_read = max(self.largest_read, len(chunk))
            parts.append(chunk)
        with self._lock:
            self.blobs[key] = b"".join(parts)
        return len(self.blobs[key])

    def put_bytes(self, key: str, data: bytes) -> None:
        with self._lock:
            self.blobs[key] = data

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        with self._lock:
            data = self.blobs.get(key)
        if data is None:
            raise NotFound(f"No stored data for {key}.", code="not_found")
        yield io.BytesIO(data)

    def delete_prefix(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in self.blobs if k.startswith(prefix)]:
                del self.blobs[key]


class RecordingWebhooks:
    """The WebhookSender port, recording: refuses URLs on ``refused`` hosts, delivers nothing."""

    def __init__(self, refused: Sequence[str] = ("127.0.0.1", "localhost")) -> None:
        self.refused = tuple(refused)
        self.checked: list[str] = []
        self.delivered: list[tuple[str, str, dict[str, Any]]] = []
        self.done = threading.Event()

    def check_url(self, url: str) -> None:
        self.checked.append(url)
        if not url.startswith(("http://", "https://")) or any(h in url for h in self.refused):
            raise InvalidRequest(f"callback_url {url!r} is not allowed.", param="callback_url")

    async def send(
        self,
        url: str,
        event_type: str,
        data: Mapping[str, Any],
        *,
        webhook_id: str,
        timestamp: datetime,
    ) -> SendOutcome:
        self.delivered.append((url, event_type, dict(data)))
        self.done.set()
        return SendOutcome(True)


def fake_services(
    asr: FakeAsr | None = None,
    diarizer: FakeDiarizer | None = None,
    *,
    post_processors: Sequence[PostProcessor] = (),
    key_store: FakeKeyStore | None = None,
    usage_meter: FakeUsageMeter | None = None,
    job_store: FakeJobStore | None = None,
    blob_store: FakeBlobStore | None = None,
    webhooks: WebhookSender | None = None,
    rate_limiter: FakeRateLimiter | None = None,
    **settings: Any,
) -> Services:
    """The real composition root, with fakes in place of the decoder, the engines, the
    diarizer and the stores (and the given post-processors in place of the real ones). The
    rate limiter is the real one, in memory, unless one is given."""
    asr = asr or FakeAsr()
    job_store = job_store or FakeJobStore()
    overrides = Overrides(
        decoder=FakeDecoder(),
        asr_engines=[asr],
        diarizer=diarizer or FakeDiarizer(),
        post_processors=post_processors,
        key_store=key_store or FakeKeyStore(),
        usage_meter=usage_meter or FakeUsageMeter(),
        job_store=job_store,
        blob_store=blob_store or FakeBlobStore(),
        webhooks=webhooks or RecordingWebhooks(),
        callback_outbox=job_store,
        rate_limiter=rate_limiter,
    )
    return build_services(Settings(**settings), overrides)


def services_on_database(settings: Settings) -> Services:
    """The real composition root on the database ``settings`` name (its job store, outbox and
    secrets), with fakes for the decoder, the engine, the keys, usage and blobs."""
    overrides = Overrides(
        decoder=FakeDecoder(),
        asr_engines=[FakeAsr()],
        post_processors=[],
        key_store=FakeKeyStore(),
        usage_meter=FakeUsageMeter(),
        blob_store=FakeBlobStore(),
    )
    return build_services(settings, overrides)
