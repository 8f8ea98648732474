"""NeMo Parakeet TDT speech recognition (the production GPU engine; also runs on CPU).

Long recordings are transcribed in overlapping chunks (see ``nemo_chunks``, which plans them and
builds segments from NeMo's word timestamps without importing NeMo); where the model comes from
is ``nemo_source``. This module holds what needs NeMo and torch: loading, inference, memory.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from scribe.adapters.devices import parse_device, torch_device
from scribe.adapters.download_progress import hub_download_progress
from scribe.adapters.lazy import Lazy
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
from scribe.domain.transcript import AsrResult, Segment
from scribe.ports.asr_engine import AsrCapabilities, SegmentCallback

from .nemo_chunks import (
    OVERLAP_SECONDS,
    chunk_segments,
    languages_for_model,
    make_segment,
    plan_chunks,
)
from .nemo_source import DEFAULT_MODEL, NemoModelSource

log = logging.getLogger(__name__)

# NeMo pads inputs shorter than 1 s on both sides, which would shift timestamps: pad right first.
_MIN_INPUT_SECONDS = 1.05
# Seconds per encoder frame when the model's config does not say (10 ms hop x 8 subsampling).
_DEFAULT_TIME_STRIDE = 0.08


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
class _Loaded:
    """A restored model, the torch device it sits on, and its seconds per encoder frame."""

    model: Any
    device: Any
    time_stride: float


class NemoEngine:
    """Parakeet TDT (or any NeMo ASR model with word timestamps) behind the ``AsrEngine`` port.

    ``model`` is a local ``.nemo`` file (or a folder holding one) or a Hugging Face Hub name.
    A hub name is taken from the local Hugging Face cache when it is there; it is downloaded only
    when ``allow_downloads`` is true. ``device`` is ``cuda``, ``cuda:N`` or ``cpu``, as the
    composition root resolved it; ``fp16`` applies on CUDA only. Recordings longer than
    ``chunk_seconds`` are split into overlapping chunks. The languages follow from the model's
    name (``languages_for_model``). One model is shared by all threads; calls are serialised.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "cuda",
        fp16: bool = True,
        chunk_seconds: float = 300.0,
        allow_downloads: bool = False,
        name: str = "parakeet-tdt-0.6b-v2",
    ) -> None:
        parse_device(device)  # a ValueError now, not at load time
        if chunk_seconds <= 4 * OVERLAP_SECONDS:
            raise ValueError(
                f"chunk_seconds must be larger than four times the chunk overlap "
                f"({4 * OVERLAP_SECONDS:g} s), got {chunk_seconds}"
            )
        self._source = NemoModelSource(model, allow_downloads)
        self._device = device
        self._fp16 = fp16
        self._chunk_seconds = float(chunk_seconds)
        self._name = name
        self._languages = languages_for_model(model)
        self._loaded = Lazy(self._load)
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
    def capabilities(self) -> AsrCapabilities:
        """Parakeet transcribes its languages; it neither translates nor gives word
        probabilities (its timestamps come from the TDT decoder's durations, not scores)."""
        return AsrCapabilities(languages=frozenset(self._languages))

    @property
    def device(self) -> str:
        """The device the model runs on: ``cuda``, ``cuda:N`` or ``cpu``."""
        return self._device

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
        loaded = self._loaded.get()
        segments: list[Segment] = []
        with self._infer_lock:
            try:
                for chunk in plan_chunks(duration, self._chunk_seconds):
                    a = round(chunk.start * audio.sample_rate)
                    b = round(chunk.end * audio.sample_rate)
                    try:
                        hyp = _run_model(loaded.model, samples[a:b], audio.sample_rate)
                    except ScribeError:
                        raise
                    except Exception as exc:
                        raise _translate_runtime_error(exc) from exc
                    stamps = getattr(hyp, "timestamp", None)
                    if not isinstance(stamps, dict):
                        stamps = {}
                    for words in chunk_segments(stamps, chunk, duration, loaded.time_stride):
                        segment = make_segment(len(segments), words)
                        segments.append(segment)
                        if on_segment is not None:
                            # Its errors (e.g. Cancelled, to stop between chunks) pass through.
                            on_segment(segment)
            finally:
                _release_memory(loaded.device)
        return AsrResult(language=language, duration=duration, segments=tuple(segments))

    # --- loading --------------------------------------------------------------------------

    def load(self) -> None:
        """Load the model once (thread-safe). Raises ``ModelUnavailable`` with a way to fix it."""
        self._loaded.get()

    def _load(self) -> _Loaded:
        path = self._source.local_file()  # fails fast, before the heavy imports
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

        device = torch_device(self._device, "The NeMo engine")
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
                # First start with downloads allowed: progress lines in the log, not bars.
                with hub_download_progress(self._source.allow_downloads):
                    model = ASRModel.from_pretrained(self._source.ref, map_location=device)
            except Exception as exc:
                raise self._source.unavailable(exc) from exc

        model.eval()
        if device.type == "cuda":
            # Autotunes convolutions per input shape: faster for repeated shapes (all full
            # chunks share one), a one-off cost for each new length (a job's last chunk).
            torch.backends.cudnn.benchmark = True
            if self._fp16:
                model = model.half()
        try:
            stride = float(model.cfg.preprocessor.window_stride)
            time_stride = stride * int(model.encoder.subsampling_factor)
        except (AttributeError, KeyError, TypeError, ValueError):
            time_stride = _DEFAULT_TIME_STRIDE
        return _Loaded(model, device, time_stride)

    def unload(self) -> None:
        """Drop the model and give its memory back (a later call loads it again)."""
        with self._infer_lock:
            loaded = self._loaded.reset()
            if loaded is None:
                return
            device = loaded.device
            del loaded
            import gc

            gc.collect()
            _release_memory(device)

    def describe(self) -> dict[str, Any]:
        """Where and how it runs: device, whether it is loaded, and once loaded its dtype and
        parameter count (an API node of the scaled shape never loads it)."""
        loaded = self._loaded.peek()
        if loaded is None:
            return {"device": self.device, "dtype": None, "loaded": False}
        model = loaded.model
        first = next(iter(model.parameters()), None)
        return {
            "device": self.device,
            "dtype": str(first.dtype) if first is not None else None,
            "loaded": True,
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


def _run_model(model: Any, samples: npt.NDArray[np.float32], sample_rate: int) -> Any:
    """One NeMo ``transcribe`` call on an in-memory array; returns its Hypothesis."""
    import torch

    minimum = int(_MIN_INPUT_SECONDS * sample_rate)
    if len(samples) < minimum:
        samples = np.pad(samples, (0, minimum - len(samples)))
    with torch.inference_mode():
        output = model.transcribe(
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


def _release_memory(device: Any) -> None:
    if device.type == "cuda":
        import torch

        torch.cuda.empty_cache()


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
