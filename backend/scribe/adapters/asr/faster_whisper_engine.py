"""ASR with faster-whisper (CTranslate2): the embedded CPU default, also fast on CUDA.

``faster_whisper`` and ``ctranslate2`` are imported when the model loads, never at import time.
"""

from __future__ import annotations

import logging
import math
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scribe.adapters.devices import parse_device
from scribe.adapters.lazy import Lazy
from scribe.domain.audio import SAMPLE_RATE, Audio
from scribe.domain.errors import InvalidRequest, ModelUnavailable
from scribe.domain.options import TranscriptionOptions, VadChunking
from scribe.domain.transcript import AsrResult, Segment, Word
from scribe.ports.asr_engine import AsrCapabilities, SegmentCallback

from .bundled_whisper import bundled_whisper_base
from .repetition import RepetitionGuard
from .whisper_batched import BatchedRequest, transcribe_batched

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

logger = logging.getLogger(__name__)

BUNDLED_MODEL = "base"
_TEMPERATURE_STEP = 0.2
# Samples quieter than this everywhere are digital silence: no need to ask the VAD.
_SILENCE_PEAK = 1e-4
_VAD_WINDOW_S = 30.0
# Batch sizes when SCRIBE_WHISPER_BATCH_SIZE is unset. On a CPU, batches of 8 windows keep the
# cores busy without holding much memory; a GPU takes more windows at once.
DEFAULT_BATCH_SIZE = {"cpu": 8, "cuda": 16}


def default_batch_size(device_kind: str) -> int:
    """How many VAD windows one batched decode takes on ``cpu`` or ``cuda`` by default."""
    return DEFAULT_BATCH_SIZE.get(device_kind, DEFAULT_BATCH_SIZE["cpu"])


@dataclass(frozen=True)
class _Loaded:
    """A loaded model and what was decided while loading it."""

    model: WhisperModel
    path: Path
    compute_type: str
    languages: frozenset[str]


class FasterWhisperEngine:
    """The ``AsrEngine`` port on faster-whisper.

    ``model`` is ``"base"`` (the bundled weights, offline), a local CTranslate2 model folder, or a
    Hugging Face Hub name / faster-whisper size name (``"Systran/faster-whisper-small"``,
    ``"small"``), which is fetched only when ``allow_downloads`` is true (an already cached copy in
    the standard Hugging Face cache is used either way).

    ``device`` is ``cpu``, ``cuda`` or ``cuda:N``, as the composition root resolved it.

    By default audio takes the batched path (``whisper_batched``): the Silero VAD cuts it at
    pauses into windows of up to 30 s and ``batch_size`` windows are decoded at once, each on its
    own, by beam search (deterministic; a window that loops is decoded once more with a
    repetition penalty). ``batch_size=None`` means 8 on a CPU and 16 on CUDA. With 0 or 1, or
    for a request with a temperature above 0 (sampling), faster-whisper's sequential path runs,
    where ``vad_filter`` and ``temperature_fallback`` apply: with the fallback (OpenAI's
    behaviour) a window that decodes badly is decoded again at rising temperatures, which
    samples at random. On both paths a run of words repeated over and over (a decoding loop) is
    cut to its first copy (``repetition``).

    ``compute_type="default"`` means int8 on CPU and float16 on CUDA; ``cpu_threads=0`` lets
    CTranslate2 choose. A recording in which the Silero VAD finds no speech at all returns no
    segments (Whisper otherwise tends to invent a "Thank you." or "You" for silence).
    Safe to call from several threads; the first call loads the model unless ``load()`` ran.
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        cache_dir: Path,
        device: str = "cpu",
        compute_type: str = "default",
        beam_size: int = 5,
        cpu_threads: int = 0,
        vad_filter: bool = False,
        temperature_fallback: bool = True,
        batch_size: int | None = None,
        allow_downloads: bool = False,
        name: str = "whisper-base",
    ) -> None:
        self._device_kind, self._device_index = parse_device(device)
        if beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {beam_size}")
        if batch_size is not None and batch_size < 0:
            raise ValueError(f"batch_size must be 0 or more, got {batch_size}")
        self._model_spec = model.strip()
        self._cache_dir = Path(cache_dir).expanduser()
        self._device = device
        self._compute_type = compute_type
        self._beam_size = beam_size
        self._cpu_threads = cpu_threads
        self._vad_filter = vad_filter
        self._temperature_fallback = temperature_fallback
        self._batch_size = (
            default_batch_size(self._device_kind) if batch_size is None else batch_size
        )
        self._allow_downloads = allow_downloads
        self._name = name
        self._loaded = Lazy(self._load)

    # --- identity -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The model id clients pass as ``model`` to select this engine."""
        return self._name

    @property
    def capabilities(self) -> AsrCapabilities:
        """Whisper gives word probabilities; multilingual models translate. Before loading, the
        languages are Whisper's (None) and an English-only model is told by its ``.en`` name."""
        loaded = self._loaded.peek()
        if loaded is None:
            return AsrCapabilities(
                translate=not self._model_spec.rstrip("/").endswith(".en"),
                word_probabilities=True,
            )
        return AsrCapabilities(
            translate=bool(loaded.model.model.is_multilingual),
            word_probabilities=True,
            languages=loaded.languages,
        )

    @property
    def is_loaded(self) -> bool:
        return self._loaded.loaded

    @property
    def model_path(self) -> Path | None:
        """The local folder the weights were loaded from (None before ``load()``)."""
        loaded = self._loaded.peek()
        return loaded.path if loaded is not None else None

    @property
    def device(self) -> str:
        """The device this engine runs on: ``cpu``, ``cuda`` or ``cuda:N``."""
        return self._device

    @property
    def batch_size(self) -> int:
        """VAD windows decoded at once on the batched path; 0 or 1: batching is off."""
        return self._batch_size

    @property
    def compute_type(self) -> str:
        """The CTranslate2 compute type in use once loaded; the configured value before."""
        loaded = self._loaded.peek()
        return loaded.compute_type if loaded is not None else self._compute_type

    def describe(self) -> dict[str, Any]:
        """Where and how it runs (for readiness and metrics): device, dtype, loaded."""
        return {"device": self._device, "dtype": self.compute_type, "loaded": self.is_loaded}

    @property
    def model(self) -> WhisperModel:
        """The bare ``faster_whisper.WhisperModel`` (loads it if needed), e.g. for benchmarks."""
        return self.load()

    # --- loading --------------------------------------------------------------------------

    def load(self) -> WhisperModel:
        """Load the model once (idempotent, thread-safe). Raises ``ModelUnavailable``."""
        return self._loaded.get().model

    def _load(self) -> _Loaded:
        started = time.perf_counter()
        path = self._resolve_model_path()
        try:
            import ctranslate2
            from faster_whisper import WhisperModel
        except ImportError as exc:  # pragma: no cover - faster-whisper is a core dependency
            raise ModelUnavailable(
                f"faster-whisper is not installed ({exc}). Install it: pip install faster-whisper"
            ) from exc
        compute_type = self._resolve_compute_type(ctranslate2)
        model = self._open(WhisperModel, path, compute_type)
        logger.info(
            "Loaded Whisper model %s on %s (%s) in %.1f s",
            path,
            self._device,
            compute_type,
            time.perf_counter() - started,
        )
        return _Loaded(model, path, compute_type, frozenset(model.supported_languages))

    def _resolve_model_path(self) -> Path:
        spec = self._model_spec
        if spec == BUNDLED_MODEL:
            return bundled_whisper_base(self._cache_dir)
        local = Path(spec).expanduser()
        if local.is_dir():
            if not (local / "model.bin").is_file():
                raise ModelUnavailable(
                    f"SCRIBE_WHISPER_MODEL points at {local}, which has no model.bin: it is not "
                    "a CTranslate2 Whisper model folder. Convert a model with "
                    "ct2-transformers-converter, or use 'base' for the bundled model."
                )
            return local
        if local.is_absolute() or spec.startswith((".", "~")) or local.exists():
            raise ModelUnavailable(
                f"SCRIBE_WHISPER_MODEL points at {spec}, which is not a folder. Give a local "
                "CTranslate2 Whisper model folder, 'base' for the bundled model, or a Hugging "
                "Face model name with SCRIBE_ALLOW_DOWNLOADS=true."
            )
        return self._hub_model(spec)

    def _hub_model(self, spec: str) -> Path:
        from faster_whisper.utils import download_model

        try:
            # A copy already in the Hugging Face cache needs no download.
            return Path(download_model(spec, local_files_only=True))
        except Exception as exc:
            cached_error: Exception = exc
        if not self._allow_downloads:
            raise ModelUnavailable(
                f"The Whisper model {spec!r} is not available locally and downloads are off. "
                "Use SCRIBE_WHISPER_MODEL=base (bundled, offline), point SCRIBE_WHISPER_MODEL at "
                "a local CTranslate2 model folder, or set SCRIBE_ALLOW_DOWNLOADS=true to fetch it "
                f"from the Hugging Face Hub. ({cached_error})"
            ) from cached_error
        try:
            logger.info("Downloading Whisper model %s from the Hugging Face Hub", spec)
            return Path(download_model(spec, local_files_only=False))
        except Exception as exc:
            raise ModelUnavailable(
                f"Could not download the Whisper model {spec!r}: {exc}. Check the name (e.g. "
                "'Systran/faster-whisper-small' or 'small'), the network, and that HF_HUB_OFFLINE "
                "is not set; or use SCRIBE_WHISPER_MODEL=base for the bundled model."
            ) from exc

    def _open(
        self, whisper_model: type[WhisperModel], path: Path, compute_type: str
    ) -> WhisperModel:
        cuda = self._device_kind == "cuda"
        try:
            model = whisper_model(
                str(path),
                device=self._device_kind,
                device_index=self._device_index or 0,
                compute_type=compute_type,
                cpu_threads=self._cpu_threads,
                local_files_only=True,
            )
            if cuda:
                # CUDA libraries (cuBLAS, cuDNN) load on first use: fail at startup, not mid-request.
                model.detect_language(np.zeros(SAMPLE_RATE, dtype=np.float32))
        except (RuntimeError, ValueError, OSError) as exc:
            hint = (
                "Check the NVIDIA driver and that the CUDA 12 cuBLAS and cuDNN 9 libraries are "
                "installed (pip install nvidia-cublas-cu12 nvidia-cudnn-cu12), or set "
                "SCRIBE_DEVICE=cpu."
                if cuda
                else "Check that the folder holds a CTranslate2 Whisper model (model.bin, "
                "config.json, tokenizer.json) and that SCRIBE_WHISPER_COMPUTE_TYPE suits this "
                "machine."
            )
            raise ModelUnavailable(
                f"Could not load the Whisper model from {path} on {self._device} ({compute_type}): "
                f"{exc}. {hint}"
            ) from exc
        return model

    def _resolve_compute_type(self, ctranslate2: Any) -> str:
        """``default`` means int8 on CPU, float16 on CUDA; others must suit the device."""
        device = self._device_kind
        default = "float16" if device == "cuda" else "int8"
        compute_type = default if self._compute_type == "default" else self._compute_type
        try:
            supported = set(ctranslate2.get_supported_compute_types(device))
        except Exception:
            supported = set()
        if not supported or compute_type in supported or compute_type == "auto":
            return compute_type
        raise ModelUnavailable(
            f"SCRIBE_WHISPER_COMPUTE_TYPE={compute_type} is not supported on {device} here; "
            f"supported: {', '.join(sorted(supported))} (or 'default')."
        )

    # --- transcription --------------------------------------------------------------------

    def transcribe_kwargs(self, options: TranscriptionOptions) -> dict[str, Any]:
        """The exact keyword arguments this adapter passes to ``WhisperModel.transcribe`` on the
        sequential path; the batched path decodes with the same values.

        Loads the model (the language check needs it). Raises ``InvalidRequest``.
        """
        languages = self._loaded.get().languages
        chunking = options.chunking
        return {
            "language": self._language(options.language, languages),
            "task": options.task.value,
            "beam_size": self._beam_size,
            "temperature": _temperatures(options.temperature)
            if self._temperature_fallback
            else (options.temperature,),
            "initial_prompt": options.prompt or None,
            "hotwords": " ".join(options.keywords) or None,  # OpenAI's keywords
            "word_timestamps": options.needs_word_times,
            # OpenAI's chunking_strategy: cut at the pauses the Silero VAD finds.
            "vad_filter": self._vad_filter if chunking is None else True,
            "vad_parameters": None if chunking is None else _vad_parameters(chunking),
        }

    def transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        on_segment: SegmentCallback | None = None,
    ) -> AsrResult:
        """Transcribe ``audio``; ``on_segment`` gets each segment as soon as it is decoded."""
        if audio.sample_rate != SAMPLE_RATE:
            raise ValueError(f"audio must be {SAMPLE_RATE} Hz, got {audio.sample_rate} Hz")
        model = self.load()
        kwargs = self.transcribe_kwargs(options)
        duration = audio.duration
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32).reshape(-1)
        # The batched path decodes by beam search only: a request that asks for sampling
        # (temperature > 0) takes the sequential path, which samples as OpenAI's does.
        batched = self.batches(duration) and options.temperature == 0
        if not batched and not kwargs["vad_filter"] and not _has_speech(samples):
            return AsrResult(language=kwargs["language"] or "en", duration=duration, segments=())
        if kwargs["language"] is None and len(options.languages) > 1:
            kwargs["language"] = self._detect_among(model, samples, options.languages)
        try:
            if batched:
                language, raw_segments = transcribe_batched(
                    model, samples, self._batched_request(kwargs, options)
                )
            else:
                raw_segments, info = model.transcribe(samples, **kwargs)
                language = info.language
        except ValueError as exc:  # invalid options that slipped past our own checks
            raise InvalidRequest(f"The transcription options were rejected: {exc}") from exc
        segments = self._collect(model, raw_segments, duration, on_segment)
        return AsrResult(language=language, duration=duration, segments=tuple(segments))

    def batches(self, duration: float) -> bool:
        """Whether audio of ``duration`` seconds takes the batched path: whenever batching is
        on. A clip of one window costs the same either way (measured in research/long-audio.md)
        and the batched path's single deterministic pass keeps the result repeatable."""
        return self._batch_size > 1 and duration > 0

    def _batched_request(
        self, kwargs: dict[str, Any], options: TranscriptionOptions
    ) -> BatchedRequest:
        return BatchedRequest(
            language=kwargs["language"],
            task=kwargs["task"],
            beam_size=self._beam_size,
            temperature=_temperatures(options.temperature)[0],
            initial_prompt=kwargs["initial_prompt"],
            hotwords=kwargs["hotwords"],
            word_timestamps=kwargs["word_timestamps"],
            vad_parameters=kwargs["vad_parameters"] or {},
            batch_size=self._batch_size,
        )

    @staticmethod
    def _collect(
        model: WhisperModel,
        raw_segments: Iterable[Any],
        duration: float,
        on_segment: SegmentCallback | None,
    ) -> list[Segment]:
        """Domain segments, loops cut, each passed to ``on_segment`` as soon as it is decoded."""
        guard = RepetitionGuard()

        def encode(text: str) -> tuple[int, ...]:
            return tuple(model.hf_tokenizer.encode(text, add_special_tokens=False).ids)

        segments: list[Segment] = []
        # The generator decodes lazily: each step below runs the model on the next window(s).
        for raw in raw_segments:
            segment = _to_segment(raw, len(segments), duration)
            if segment is not None:
                segment = _without_loops(segment, guard, encode)
            if segment is None:
                continue
            segments.append(segment)
            if on_segment is not None:
                on_segment(segment)
        if guard.dropped:
            logger.warning("Dropped %d words of repeated runs (a decoding loop)", guard.dropped)
        return segments

    def _detect_among(
        self, model: WhisperModel, samples: npt.NDArray[np.float32], allowed: tuple[str, ...]
    ) -> str:
        """The most likely of the ``allowed`` languages (OpenAI's ``languages``)."""
        known = self._loaded.get().languages
        candidates = [code for code in allowed if code in known] or list(allowed)
        _, _, ranked = model.detect_language(samples)
        for code, _probability in ranked:
            if code in candidates:
                return str(code)
        return candidates[0]

    @staticmethod
    def _language(language: str | None, languages: frozenset[str]) -> str | None:
        if language is None or not language.strip():
            return None
        code = language.strip().lower()
        if code in languages:
            return code
        if languages == {"en"}:
            raise InvalidRequest(
                f"This Whisper model only transcribes English, but language={language!r} was "
                "requested. Use language=en, omit it, or configure a multilingual model "
                "(SCRIBE_WHISPER_MODEL).",
                param="language",
                code="unsupported_language",
            )
        raise InvalidRequest(
            f"Unsupported language {language!r}. Give an ISO-639-1 code such as 'en', 'de', 'fr', "
            "'es' or 'ja', or omit language to detect it automatically.",
            param="language",
            code="unsupported_language",
        )


def _vad_parameters(chunking: VadChunking) -> dict[str, float]:
    """faster-whisper's VadOptions for OpenAI's ``server_vad`` fields (unset: its defaults)."""
    parameters: dict[str, float] = {}
    if chunking.threshold is not None:
        parameters["threshold"] = chunking.threshold
    if chunking.prefix_padding_ms is not None:
        parameters["speech_pad_ms"] = chunking.prefix_padding_ms
    if chunking.silence_duration_ms is not None:
        parameters["min_silence_duration_ms"] = chunking.silence_duration_ms
    return parameters


def _temperatures(temperature: float) -> tuple[float, ...]:
    """OpenAI semantics: start at ``temperature`` and raise it on failure up to 1.0."""
    if not 0.0 <= temperature <= 1.0:
        raise InvalidRequest(
            f"temperature must be between 0 and 1, got {temperature}.", param="temperature"
        )
    steps = math.floor((1.0 - temperature) / _TEMPERATURE_STEP + 1e-9)
    return tuple(round(temperature + i * _TEMPERATURE_STEP, 4) for i in range(steps + 1))


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(float(value), low), high)


def _to_segment(raw: Any, index: int, duration: float) -> Segment | None:
    """A domain segment from a faster-whisper one; None when it has no text at all."""
    text = str(raw.text)
    if not text.strip():
        return None
    start = _clamp(raw.start, 0.0, duration)
    end = _clamp(raw.end, start, duration)
    words: list[Word] = []
    for w in raw.words or ():
        w_start = _clamp(w.start, 0.0, duration)
        w_end = _clamp(w.end, w_start, duration)
        words.append(Word(w_start, w_end, str(w.word), float(w.probability)))
    return Segment(
        id=index,
        start=start,
        end=end,
        text=text,
        words=tuple(words),
        avg_logprob=float(raw.avg_logprob),
        compression_ratio=float(raw.compression_ratio),
        no_speech_prob=float(raw.no_speech_prob),
        temperature=float(raw.temperature or 0.0),
        tokens=tuple(int(t) for t in raw.tokens),
    )


def _without_loops(
    segment: Segment, guard: RepetitionGuard, encode: Callable[[str], tuple[int, ...]]
) -> Segment | None:
    """``segment`` without the words that repeat what came before in a loop; None if none stay."""
    if segment.words:
        mask = guard.keep([w.text for w in segment.words])
        if all(mask):
            return segment
        words = tuple(w for w, keep in zip(segment.words, mask, strict=True) if keep)
        if not words:
            return None
        text = "".join(w.text for w in words)
        start = segment.start if mask[0] else words[0].start
        end = segment.end if mask[-1] else words[-1].end
    else:
        pieces = segment.text.split()
        mask = guard.keep(pieces)
        if all(mask):
            return segment
        kept = [p for p, keep in zip(pieces, mask, strict=True) if keep]
        if not kept:
            return None
        text, words = " " + " ".join(kept), ()
        start, end = segment.start, segment.end
    return replace(
        segment,
        start=start,
        end=max(start, end),
        text=text,
        words=words,
        compression_ratio=_compression_ratio(text),
        tokens=encode(text),
    )


def _compression_ratio(text: str) -> float:
    """Whisper's measure of repetitiveness: text bytes over their zlib-compressed size."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _has_speech(samples: npt.NDArray[np.float32]) -> bool:
    """Whether the Silero VAD hears speech anywhere; stops at the first window that has some."""
    if samples.size == 0 or float(np.max(np.abs(samples))) < _SILENCE_PEAK:
        return False
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    window = int(_VAD_WINDOW_S * SAMPLE_RATE)
    options = VadOptions()
    for start in range(0, samples.size, window):
        if get_speech_timestamps(samples[start : start + window], options):
            return True
    return False
