"""NeMo Parakeet TDT speech recognition (the production GPU engine; also runs on CPU).

Long recordings are cut into chunks of ``chunk_seconds`` that overlap by ``overlap_seconds``; each
chunk is transcribed with full attention, times are shifted back, and of the words in an overlap
only those whose midpoint falls in a chunk's own core (the half of the overlap nearest to it) are
kept, so nothing is repeated or lost at the seams. This was chosen over NeMo's local attention
(``change_attention_model("rel_pos_local_attn")``) because it keeps the model's trained numerics
(full context within each chunk: no accuracy change for ordinary lengths), bounds GPU memory by
the chunk length for any model and any recording length, and lets ``on_segment`` report progress
chunk by chunk.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from scribe.adapters.torchaudio_compat import ensure_torchaudio_importable
from scribe.domain.audio import Audio
from scribe.domain.errors import (
    InvalidAudio,
    InvalidRequest,
    ModelUnavailable,
    ResourceExhausted,
    ScribeError,
)
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import AsrResult, Segment, Word
from scribe.ports.asr_engine import SegmentCallback

log = logging.getLogger(__name__)

DEFAULT_MODEL = "nvidia/parakeet-tdt-0.6b-v2"

# nvidia/parakeet-tdt-0.6b-v3 transcribes these 25 European languages; v2 is English only.
PARAKEET_V3_LANGUAGES: tuple[str, ...] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "hr", "hu", "it",
    "lt", "lv", "mt", "nl", "pl", "pt", "ro", "ru", "sk", "sl", "sv", "uk",
)  # fmt: skip

# Segments longer than this are split at word boundaries (subtitles stay readable).
MAX_SEGMENT_SECONDS = 30.0
# NeMo pads inputs shorter than 1 s on both sides, which would shift timestamps: pad right first.
_MIN_INPUT_SECONDS = 1.05


def languages_for_model(model: str) -> tuple[str, ...]:
    """The languages a Parakeet model transcribes, judged from its name (v3 is multilingual)."""
    name = model.lower()
    if "-v3" in name or "multilingual" in name:
        return PARAKEET_V3_LANGUAGES
    return ("en",)


def configure_cuda_allocator() -> None:
    """Ask PyTorch's CUDA allocator for expandable segments (less fragmentation on long jobs).

    The setting is read when torch first initialises CUDA, so this must run before any CUDA
    tensor exists in the process; ``NemoEngine.load`` calls it before it imports torch. An
    operator's own ``PYTORCH_CUDA_ALLOC_CONF`` / ``PYTORCH_ALLOC_CONF`` is left alone. If another
    engine initialised CUDA first, the composition root should call this at startup.
    """
    if "PYTORCH_CUDA_ALLOC_CONF" not in os.environ and "PYTORCH_ALLOC_CONF" not in os.environ:
        os.environ["PYTORCH_CUDA_ALLOC_CONF"] = "expandable_segments:True"


@dataclass(frozen=True)
class _Chunk:
    """A window of the recording, and the part of it (its core) whose words it owns."""

    start: float
    end: float
    core_start: float
    core_end: float


def plan_chunks(duration: float, chunk_seconds: float, overlap_seconds: float) -> list[_Chunk]:
    """Overlapping windows covering ``[0, duration]`` whose cores tile it without gaps."""
    if duration <= chunk_seconds:
        return [_Chunk(0.0, duration, 0.0, duration)]
    overlap = min(overlap_seconds, chunk_seconds / 4)
    step = chunk_seconds - overlap
    count = math.ceil((duration - overlap) / step)
    chunks = []
    for i in range(count):
        start = i * step
        end = min(start + chunk_seconds, duration)
        core_start = 0.0 if i == 0 else start + overlap / 2
        core_end = duration if i == count - 1 else start + step + overlap / 2
        chunks.append(_Chunk(start, end, core_start, core_end))
    return chunks


class NemoEngine:
    """Parakeet TDT (or any NeMo ASR model with word timestamps) behind the ``AsrEngine`` port.

    ``model`` is a local ``.nemo`` file (or a folder holding one) or a Hugging Face Hub name.
    A hub name is taken from the local Hugging Face cache when it is there; it is downloaded only
    when ``allow_downloads`` is true. ``device`` is ``cuda``, ``cuda:N``, ``cpu`` or ``auto``;
    ``fp16`` applies on CUDA only. Recordings longer than ``chunk_seconds`` are split into chunks
    overlapping by ``overlap_seconds``. ``languages`` defaults to what the model name implies
    (``languages_for_model``). One model is shared by all threads; calls are serialised.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "cuda",
        fp16: bool = True,
        chunk_seconds: float = 300.0,
        allow_downloads: bool = False,
        name: str = "parakeet-tdt-0.6b-v2",
        overlap_seconds: float = 2.0,
        languages: Sequence[str] | None = None,
        cudnn_benchmark: bool = True,
    ) -> None:
        if device not in ("cuda", "cpu", "auto") and not device.startswith("cuda:"):
            raise ValueError(f"device must be 'cuda', 'cuda:N', 'cpu' or 'auto', got {device!r}")
        if chunk_seconds <= 4 * overlap_seconds or chunk_seconds <= 2:
            raise ValueError("chunk_seconds must be larger than four times overlap_seconds")
        self._model_ref = model
        self._device = device
        self._fp16 = fp16
        self._chunk_seconds = float(chunk_seconds)
        self._overlap_seconds = float(overlap_seconds)
        self._allow_downloads = allow_downloads
        self._name = name
        self._languages = tuple(languages) if languages else languages_for_model(model)
        self._cudnn_benchmark = cudnn_benchmark
        self._model: Any = None
        self._torch_device: Any = None
        self._time_stride = 0.08
        self._load_lock = threading.Lock()
        self._infer_lock = threading.Lock()

    # --- port -----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The model id clients pass as ``model``."""
        return self._name

    @property
    def languages(self) -> tuple[str, ...]:
        """ISO 639-1 codes this model transcribes."""
        return self._languages

    @property
    def device(self) -> str:
        """Where the model runs once loaded (``cuda`` / ``cpu``), else the requested device."""
        return str(self._torch_device) if self._torch_device is not None else self._device

    def transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        on_segment: SegmentCallback | None = None,
    ) -> AsrResult:
        """Transcribe ``audio``; segments go to ``on_segment`` as each chunk is decoded."""
        language = self._check_language(options.language)
        if audio.sample_rate != 16_000:
            raise InvalidAudio(
                f"The NeMo engine expects 16 kHz audio, got {audio.sample_rate} Hz; "
                "decode uploads with the service's audio decoder."
            )
        duration = audio.duration
        samples = np.nan_to_num(np.asarray(audio.samples, dtype=np.float32).reshape(-1))
        if duration <= 0.0:
            return AsrResult(language=language, duration=0.0, segments=())
        self.load()
        segments: list[Segment] = []
        with self._infer_lock:
            try:
                for chunk in plan_chunks(duration, self._chunk_seconds, self._overlap_seconds):
                    a = round(chunk.start * audio.sample_rate)
                    b = round(chunk.end * audio.sample_rate)
                    try:
                        hyp = self._run_model(samples[a:b], audio.sample_rate)
                    except ScribeError:
                        raise
                    except Exception as exc:
                        raise _translate_runtime_error(exc) from exc
                    for words in self._segment_words(hyp, chunk, duration):
                        segment = _make_segment(len(segments), words)
                        segments.append(segment)
                        if on_segment is not None:
                            # Its errors (e.g. Cancelled, to stop between chunks) pass through.
                            on_segment(segment)
            finally:
                self._release_memory()
        return AsrResult(language=language, duration=duration, segments=tuple(segments))

    # --- loading --------------------------------------------------------------------------

    def load(self) -> None:
        """Load the model once (thread-safe). Raises ``ModelUnavailable`` with a way to fix it."""
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            self._model = self._load_model()

    def _load_model(self) -> Any:
        path = self._local_model_file()  # fails fast, before the heavy imports
        configure_cuda_allocator()  # before torch initialises CUDA: see the function's note
        try:
            import torch

            ensure_torchaudio_importable()
            from nemo.collections.asr.models import ASRModel
        except ImportError as exc:
            raise ModelUnavailable(
                f"The NeMo engine needs the NeMo toolkit, which is not installed ({exc}). "
                "Install the GPU extra: pip install 'scribe[gpu]' -c constraints.txt, "
                "or set SCRIBE_ASR_ENGINE=whisper."
            ) from exc

        device = self._resolve_device(torch)
        if path is not None:
            try:
                model = ASRModel.restore_from(str(path), map_location=device)
            except Exception as exc:
                raise ModelUnavailable(
                    f"The NeMo model file {path} could not be loaded ({type(exc).__name__}: "
                    f"{exc}). Check that it is a complete NeMo ASR .nemo file such as "
                    "parakeet-tdt-0.6b-v2.nemo (download it again if it may be truncated), and "
                    "that SCRIBE_NEMO_MODEL points at it."
                ) from exc
        else:
            try:
                model = ASRModel.from_pretrained(self._model_ref, map_location=device)
            except Exception as exc:
                raise self._unavailable(exc) from exc

        model.eval()
        if device.type == "cuda":
            # Autotunes convolutions per input shape: faster for repeated shapes (all full
            # chunks share one), a one-off cost for each new length (a job's last chunk).
            torch.backends.cudnn.benchmark = self._cudnn_benchmark
            if self._fp16:
                model = model.half()
        try:
            stride = float(model.cfg.preprocessor.window_stride)
            self._time_stride = stride * int(model.encoder.subsampling_factor)
        except (AttributeError, KeyError, TypeError, ValueError):
            self._time_stride = 0.08
        self._torch_device = device
        return model

    def _resolve_device(self, torch: Any) -> Any:
        wanted = self._device
        if wanted == "auto":
            wanted = "cuda" if torch.cuda.is_available() else "cpu"
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise ModelUnavailable(
                f"The NeMo engine was asked to run on {wanted}, but PyTorch sees no CUDA GPU. "
                "Install a CUDA build of torch and the NVIDIA driver, or set SCRIBE_DEVICE=cpu "
                "(or SCRIBE_ALLOW_CPU_FALLBACK=true)."
            )
        return torch.device(wanted)

    def _local_model_file(self) -> Path | None:
        """The ``.nemo`` file to restore, or None when the model must come from the Hub."""
        ref = self._model_ref
        path = Path(ref).expanduser()
        if path.is_file():
            return path
        if path.is_dir():
            found = sorted(path.glob("*.nemo"))
            if found:
                return found[0]
            raise ModelUnavailable(
                f"The NeMo model folder {path} holds no .nemo file. Point SCRIBE_NEMO_MODEL at "
                "the .nemo file itself."
            )
        is_hub_name = (
            not ref.endswith(".nemo")
            and not ref.startswith(("/", ".", "~"))
            and ref.count("/") <= 1
        )
        if not is_hub_name:
            raise ModelUnavailable(
                f"The NeMo model file {ref} does not exist. Set SCRIBE_NEMO_MODEL to the path of "
                "a .nemo file (e.g. /models/parakeet-tdt-0.6b-v2.nemo)."
            )
        cached = _cached_hub_file(ref)
        if cached is not None:
            return cached
        if not self._allow_downloads:
            raise ModelUnavailable(self._how_to_provide("it is not on this machine"))
        return None

    def _how_to_provide(self, problem: str) -> str:
        fix = (
            "SCRIBE_ALLOW_DOWNLOADS is on: give this machine access to huggingface.co and unset "
            "HF_HUB_OFFLINE, or set SCRIBE_NEMO_MODEL=/path/model.nemo"
            if self._allow_downloads
            else "set SCRIBE_NEMO_MODEL=/path/model.nemo, or set SCRIBE_ALLOW_DOWNLOADS=true to "
            "fetch it from the Hugging Face Hub (needs network access and HF_HUB_OFFLINE unset)"
        )
        return (
            f"Cannot load the NeMo ASR model {self._model_ref!r}: {problem}. To fix it, {fix}. "
            "A .nemo file can be downloaded on a machine with internet access, e.g. from "
            f"https://huggingface.co/{self._model_ref}."
        )

    def _unavailable(self, exc: Exception) -> ModelUnavailable:
        kind = type(exc).__name__
        if kind in ("OfflineModeIsEnabled", "LocalEntryNotFoundError"):
            problem = "the Hugging Face Hub is in offline mode and the model is not cached"
        elif kind in ("RepositoryNotFoundError", "GatedRepoError", "RevisionNotFoundError"):
            problem = f"the Hub refused it ({kind})"
        elif isinstance(exc, FileNotFoundError):
            problem = f"a file is missing ({exc})"
        elif isinstance(exc, (ConnectionError, OSError)) and "connect" in str(exc).lower():
            problem = "the Hugging Face Hub could not be reached"
        else:
            problem = f"{kind}: {exc}"
        return ModelUnavailable(self._how_to_provide(problem))

    def unload(self) -> None:
        """Drop the model and give its memory back (a later call loads it again)."""
        with self._load_lock, self._infer_lock:
            model, self._model = self._model, None
            del model
            import gc

            gc.collect()
            self._release_memory()

    def describe(self) -> dict[str, Any]:
        """What is loaded: device, dtype and parameter count (empty before ``load``)."""
        model = self._model
        if model is None:
            return {}
        first = next(iter(model.parameters()), None)
        return {
            "device": self.device,
            "dtype": str(first.dtype) if first is not None else None,
            "parameters": int(sum(p.numel() for p in model.parameters())),
        }

    # --- inference ------------------------------------------------------------------------

    def _check_language(self, language: str | None) -> str:
        if language is None or language == "":
            return "en" if "en" in self._languages else self._languages[0]
        code = language.lower().split("-")[0].split("_")[0]
        if code not in self._languages:
            supported = ", ".join(self._languages)
            raise InvalidRequest(
                f"The model {self._name} transcribes only these languages: {supported}; "
                f"got language={language!r}. Leave language empty or pick one of them.",
                param="language",
                code="unsupported_language",
            )
        return code

    def _run_model(self, samples: npt.NDArray[np.float32], sample_rate: int) -> Any:
        """One NeMo ``transcribe`` call on an in-memory array; returns its Hypothesis."""
        import torch

        minimum = int(_MIN_INPUT_SECONDS * sample_rate)
        if len(samples) < minimum:
            samples = np.pad(samples, (0, minimum - len(samples)))
        with torch.inference_mode():
            output = self._model.transcribe(
                [np.ascontiguousarray(samples)],
                batch_size=1,
                timestamps=True,
                return_hypotheses=True,
                verbose=False,
                num_workers=0,
            )
        if isinstance(output, tuple):  # older NeMo: (best hypotheses, all hypotheses)
            output = output[0]
        hyp = output[0]
        if isinstance(hyp, list):  # n-best list
            hyp = hyp[0]
        return hyp

    def _segment_words(self, hyp: Any, chunk: _Chunk, duration: float) -> list[list[Word]]:
        """Words of one chunk's hypothesis, grouped into segments, in recording time."""
        stamps = getattr(hyp, "timestamp", None)
        if not isinstance(stamps, dict):
            stamps = {}
        raw_words = list(stamps.get("word", []) or [])
        raw_segments = list(stamps.get("segment", []) or [])
        words: list[Word] = []
        for item in raw_words:
            text = str(item.get("word", "")).strip()
            if not text:
                continue
            start, end = self._seconds(item)
            start = min(max(start + chunk.start, 0.0), duration)
            end = min(max(end + chunk.start, start), duration)
            words.append(Word(start=start, end=end, text=" " + text))
        groups = _group_by_segments(words, raw_segments, chunk.start, self._time_stride)
        kept: list[list[Word]] = []
        for group in groups:
            own = [w for w in group if chunk.core_start <= (w.start + w.end) / 2 < chunk.core_end]
            if chunk.core_end >= duration:  # the last chunk also owns words ending exactly there
                own = [w for w in group if chunk.core_start <= (w.start + w.end) / 2 <= duration]
            kept.extend(_split_long(own))
        return [g for g in kept if g]

    def _seconds(self, item: dict[str, Any]) -> tuple[float, float]:
        if "start" in item and "end" in item:
            return float(item["start"]), float(item["end"])
        return (
            float(item.get("start_offset", 0)) * self._time_stride,
            float(item.get("end_offset", 0)) * self._time_stride,
        )

    def _release_memory(self) -> None:
        if self._torch_device is not None and self._torch_device.type == "cuda":
            import torch

            torch.cuda.empty_cache()


def _cached_hub_file(repo_id: str) -> Path | None:
    """The ``.nemo`` file of a Hub repository if it is already in the local cache (no network)."""
    if repo_id.count("/") != 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(repo_id, local_files_only=True)
    except Exception:
        return None
    found = sorted(Path(folder).glob("*.nemo"))
    return found[0] if found else None


def _group_by_segments(
    words: list[Word], raw_segments: list[dict[str, Any]], offset: float, stride: float
) -> list[list[Word]]:
    """Split a chunk's words into NeMo's segments (sentences), by word count, else by time."""
    if not raw_segments:
        return [words]
    counts = [len(str(s.get("segment", "")).split()) for s in raw_segments]
    if sum(counts) == len(words):
        groups, i = [], 0
        for n in counts:
            groups.append(words[i : i + n])
            i += n
        return groups
    # Fallback: a word belongs to the last segment that starts at or before its midpoint.
    starts = []
    for s in raw_segments:
        start = s.get("start")
        starts.append(float(start) if start is not None else float(s["start_offset"]) * stride)
    groups = [[] for _ in raw_segments]
    for w in words:
        mid = (w.start + w.end) / 2 - offset
        index = max([i for i, st in enumerate(starts) if st <= mid] or [0])
        groups[index].append(w)
    return groups


def _split_long(words: list[Word]) -> list[list[Word]]:
    """Split a run of words so no segment spans more than ``MAX_SEGMENT_SECONDS``."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for w in words:
        if current and w.end - current[0].start > MAX_SEGMENT_SECONDS:
            groups.append(current)
            current = []
        current.append(w)
    if current:
        groups.append(current)
    return groups


def _make_segment(index: int, words: list[Word]) -> Segment:
    return Segment(
        id=index,
        start=words[0].start,
        end=max(w.end for w in words),
        text="".join(w.text for w in words),
        words=tuple(words),
    )


def _translate_runtime_error(exc: Exception) -> ScribeError:
    """Turn a torch / NeMo failure during inference into a domain error a user can act on."""
    kind = type(exc).__name__
    text = str(exc)
    if kind == "OutOfMemoryError" or "out of memory" in text.lower():
        return ResourceExhausted(
            "The GPU ran out of memory while transcribing. Lower SCRIBE_NEMO_CHUNK_SECONDS "
            "(shorter chunks need less memory), run fewer jobs at once "
            "(SCRIBE_MAX_CONCURRENT_JOBS=1), or free the GPU from other processes.",
            code="out_of_memory",
        )
    return ScribeError(f"The NeMo ASR engine failed: {kind}: {text}", code="asr_failed")
