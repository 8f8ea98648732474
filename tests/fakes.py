"""Small recording fakes of the ports, for use-case and API tests (no models, no audio codecs)."""

from __future__ import annotations

import io
import threading
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from scribe.bootstrap import Overrides, Services, build_services
from scribe.config import Settings
from scribe.domain.audio import SAMPLE_RATE, Audio
from scribe.domain.errors import InvalidAudio, InvalidRequest
from scribe.domain.options import KnownSpeaker, SpeakerHints, Task, TranscriptionOptions
from scribe.domain.transcript import AsrResult, Segment, SpeakerTurn, Word
from scribe.ports.asr_engine import AsrCapabilities, SegmentCallback
from scribe.ports.post_processor import PostProcessor


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


@dataclass
class FakeDiarizer:
    """Returns scripted turns and records the hints it got (``barrier``: see FakeAsr)."""

    turns: Sequence[SpeakerTurn] = (
        SpeakerTurn(0.0, 2.0, "b"),
        SpeakerTurn(2.0, 4.0, "a"),
    )
    name: str = "fake-diarizer"
    barrier: threading.Barrier | None = None
    hints: list[SpeakerHints] = field(default_factory=list)
    identified: list[tuple[str, ...]] = field(default_factory=list)
    loaded: bool = False

    def load(self) -> None:
        self.loaded = True

    def diarize(self, audio: Audio, hints: SpeakerHints) -> list[SpeakerTurn]:
        self.hints.append(hints)
        if self.barrier is not None:
            self.barrier.wait(timeout=5)
        return [t for t in self.turns if t.start < audio.duration]

    def identify(
        self, audio: Audio, turns: Sequence[SpeakerTurn], known: Sequence[KnownSpeaker]
    ) -> dict[str, str]:
        self.identified.append(tuple(k.name for k in known))
        labels = list(dict.fromkeys(t.speaker for t in turns))
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


def fake_services(
    asr: FakeAsr | None = None,
    diarizer: FakeDiarizer | None = None,
    *,
    post_processors: Sequence[PostProcessor] = (),
    **settings: Any,
) -> Services:
    """The real composition root, with fakes in place of the decoder, the engines and the
    diarizer (and the given post-processors in place of the real ones)."""
    asr = asr or FakeAsr()
    overrides = Overrides(
        decoder=FakeDecoder(),
        asr_engines=[asr],
        diarizer=diarizer or FakeDiarizer(),
        post_processors=post_processors,
    )
    return build_services(Settings(**settings), overrides)
