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

from scribe.bootstrap import Services
from scribe.config import Settings
from scribe.domain.audio import SAMPLE_RATE, Audio
from scribe.domain.errors import InvalidAudio, InvalidRequest
from scribe.domain.options import KnownSpeaker, SpeakerHints, TranscriptionOptions
from scribe.domain.transcript import AsrResult, Segment, SpeakerTurn, Word
from scribe.ports.asr_engine import SegmentCallback
from scribe.ports.post_processor import PostProcessor
from scribe.use_cases.engines import AsrEngines
from scribe.use_cases.transcribe import TranscribeAudio
from scribe.use_cases.warm_up import WarmUp


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
        Word(start + i * step, start + (i + 1) * step, " " + token)
        for i, token in enumerate(tokens)
    )


@dataclass
class FakeAsr:
    """Returns scripted segments (text spread evenly over each span) and records its calls."""

    script: Sequence[tuple[float, float, str]] = (
        (0.0, 2.0, "Hello there, how are you?"),
        (2.0, 4.0, "I am fine, thank you."),
    )
    name: str = "fake-asr"
    language: str = "en"
    delay: float = 0.0
    calls: list[TranscriptionOptions] = field(default_factory=list)
    started_at: list[float] = field(default_factory=list)
    loaded: bool = False

    def load(self) -> None:
        self.loaded = True

    def transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        on_segment: SegmentCallback | None = None,
    ) -> AsrResult:
        self.started_at.append(time.perf_counter())
        self.calls.append(options)
        if options.language not in (None, "en", "fr"):
            raise InvalidRequest(f"Unsupported language '{options.language}'.", param="language")
        segments = []
        for i, (start, end, text) in enumerate(self.script):
            if start >= audio.duration:
                break
            time.sleep(self.delay / max(1, len(self.script)))
            words = words_over(text, start, end) if options.word_timestamps else ()
            segment = Segment(
                id=i, start=start, end=min(end, audio.duration), text=" " + text, words=words
            )
            segments.append(segment)
            if on_segment is not None:
                on_segment(segment)
        return AsrResult(self.language, audio.duration, tuple(segments))


@dataclass
class FakeDiarizer:
    """Returns scripted turns; records hints and the thread it ran on."""

    turns: Sequence[SpeakerTurn] = (
        SpeakerTurn(0.0, 2.0, "b"),
        SpeakerTurn(2.0, 4.0, "a"),
    )
    name: str = "fake-diarizer"
    delay: float = 0.0
    hints: list[SpeakerHints] = field(default_factory=list)
    started_at: list[float] = field(default_factory=list)
    identified: list[tuple[str, ...]] = field(default_factory=list)
    loaded: bool = False

    def load(self) -> None:
        self.loaded = True

    def diarize(self, audio: Audio, hints: SpeakerHints) -> list[SpeakerTurn]:
        self.started_at.append(time.perf_counter())
        self.hints.append(hints)
        time.sleep(self.delay)
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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_segment(self, segment: Segment) -> None:
        self.segments.append(segment)

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
    """Services wired with fakes, the way bootstrap.build_services wires the real adapters."""
    asr = asr or FakeAsr()
    diar = diarizer or FakeDiarizer()
    decoder = FakeDecoder()
    engines = AsrEngines([asr])
    return Services(
        settings=Settings(**settings),
        decoder=decoder,
        engines=engines,
        diarizer=diar,
        transcribe=TranscribeAudio(decoder, engines, diar, post_processors),
        warm_up=WarmUp([("asr", asr.load), ("diarizer", diar.load)]),
    )
