"""pyannote.audio 4.x speaker diarization behind the ``Diarizer`` port (the production diarizer).

The pipeline is a local folder (``config.yaml`` plus its segmentation, embedding and PLDA files,
e.g. a downloaded ``pyannote/speaker-diarization-community-1``) or a Hugging Face Hub name such as
``pyannote/speaker-diarization-3.1``. A hub name is taken from the local Hugging Face cache; it is
downloaded only when ``allow_downloads`` is true (gated models also need a token whose account
accepted the model's conditions); ``pyannote_source`` finds it and explains failures. Audio is
handed over in memory as a ``(1, n)`` tensor, so pyannote's own file decoding (torchcodec) is
never used. Voiceprints for ``identify`` are matched by ``voiceprints.match_voiceprints``.

Two environment quirks are handled here, before pyannote is imported (see
research/pyannote-on-cpu.md):

- pyannote 4 sends usage telemetry unless ``PYANNOTE_METRICS_ENABLED=false``: it is set.
- pyannote imports torchaudio, whose PyPI wheels are CUDA builds; beside a CPU-only torch its
  native extension cannot load and ``import torchaudio`` raises ``OSError``. pyannote only uses
  torchaudio's pure-Python parts (Kaldi fbank, MFCC, resample), so when, and only when, that load
  fails torchaudio is imported with its extension marked unavailable: the mode torchaudio itself
  runs in when its library file is absent. Nothing installed is modified.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from scribe.adapters.devices import parse_device, torch_device
from scribe.adapters.download_progress import hub_download_progress
from scribe.adapters.lazy import Lazy
from scribe.adapters.torchaudio_compat import ensure_torchaudio_importable
from scribe.domain.audio import Audio
from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import ModelUnavailable
from scribe.domain.options import KnownSpeaker, SpeakerHints
from scribe.domain.transcript import Diarization, SpeakerTurn, Voiceprint

from .pyannote_source import PipelineSource, hub_offline
from .voiceprints import match_voiceprints

log = logging.getLogger(__name__)

# Audio shorter than this holds no speaker turn worth reporting (and pyannote needs a few samples).
_MIN_AUDIO_SECONDS = 0.1
# Voiceprints for identify(): each speaker's audio is embedded in windows of at most this length,
# using at most this much of it (longest turns first), skipping pieces shorter than the minimum.
_VOICEPRINT_WINDOW_SECONDS = 10.0
_VOICEPRINT_MAX_SECONDS = 60.0
_VOICEPRINT_MIN_SECONDS = 0.5
# The least cosine similarity at which identify() names a speaker.
_MATCH_THRESHOLD = 0.5


def prepare_pyannote_import() -> None:
    """Make ``import pyannote.audio`` safe in this process: telemetry off, torchaudio importable.

    Idempotent. Call it before the first import of pyannote (the adapter does; so do the tests'
    model builders).
    """
    # pyannote 4 reads this on every metrics call; its default (from a user config file) is on.
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
    # Expected, harmless noise. Audio is passed in memory, so pyannote's file decoder (torchcodec,
    # whose PyPI wheels are CUDA builds too) is never needed; and statistics pooling warns on
    # one-frame inputs while pyannote probes its embedding model's shortest input. Filters are
    # installed once, for these modules only (``catch_warnings`` is not thread-safe).
    warnings.filterwarnings(
        "ignore", message=r"\s*torchcodec is not installed", module=r"pyannote\.audio\.core\.io"
    )
    warnings.filterwarnings(
        "ignore",
        message=r"std\(\): degrees of freedom",
        module=r"pyannote\.audio\.models\.blocks\.pooling",
    )
    ensure_torchaudio_importable()


class PyannoteDiarizer:
    """pyannote.audio 4.x speaker diarization (``speaker-diarization-community-1`` / ``-3.1``).

    ``pipeline`` is a local folder with ``config.yaml`` (or that file itself) or a hub name (see
    ``pyannote_source``). ``device`` is ``cpu``, ``cuda`` or ``cuda:N``, as the composition root
    resolved it. ``hf_token`` is used for gated hub models (huggingface_hub also reads
    ``HF_TOKEN`` itself). ``cache_dir`` overrides the Hugging Face cache folder (the tests point
    it at a folder of their own, to check hub-cache lookups without touching the user's cache).
    Turns come from pyannote's exclusive diarization (no overlapping turns, made for aligning
    with a transcript). The pipeline is not thread-safe: calls are serialised.
    """

    def __init__(
        self,
        pipeline: str,
        device: str = "cpu",
        hf_token: str | None = None,
        allow_downloads: bool = False,
        *,
        cache_dir: str | Path | None = None,
    ) -> None:
        parse_device(device)  # a ValueError now, not at load time
        self._source = PipelineSource(
            pipeline, allow_downloads, str(cache_dir) if cache_dir is not None else None
        )
        self._device = device
        self._hf_token = hf_token or None
        self._pipeline: Lazy[Any] = Lazy(self._load)
        self._run_lock = threading.Lock()

    @property
    def name(self) -> str:
        return "pyannote"

    @property
    def loaded(self) -> bool:
        """Whether ``load`` has succeeded."""
        return self._pipeline.loaded

    def describe(self) -> dict[str, Any]:
        """Where and how it runs (for readiness and metrics): device, dtype once loaded."""
        pipeline = self._pipeline.peek()
        dtype = None
        if pipeline is not None:
            model = getattr(pipeline, "_segmentation", None)
            first = next(iter(getattr(getattr(model, "model", None), "parameters", list)()), None)
            dtype = str(first.dtype).removeprefix("torch.") if first is not None else None
        return {"device": self._device, "dtype": dtype, "loaded": pipeline is not None}

    # --- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        """Load the pipeline once (thread-safe); raise ``ModelUnavailable`` when it cannot be had."""
        self._pipeline.get()

    def _load(self) -> Any:
        source = self._source.resolve()  # first: a missing model fails fast, before heavy imports
        try:
            prepare_pyannote_import()
            from pyannote.audio import Pipeline
        except (ImportError, OSError) as exc:
            raise ModelUnavailable(
                f"The pyannote diarizer needs the pyannote.audio package, which cannot be "
                f"imported ({exc}). Install the production engines with "
                "`pip install -c constraints.txt '.[gpu]'`, or set SCRIBE_DIARIZER=embedded."
            ) from exc

        device = torch_device(self._device, "The pyannote diarizer")
        try:
            allowed = self._source.allow_downloads
            with hub_offline(not allowed), hub_download_progress(allowed):
                pipeline = Pipeline.from_pretrained(
                    source, token=self._hf_token, cache_dir=self._source.cache_dir
                )
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise self._source.unavailable(self._source.explain(exc)) from exc
        if pipeline is None:
            raise self._source.unavailable("pyannote could not fetch its config.yaml")
        try:
            pipeline.to(device)
        except Exception as exc:
            raise ModelUnavailable(
                f"The pyannote pipeline '{self._source.name}' loaded but could not be moved to "
                f"device '{device}': {exc}. Set SCRIBE_DEVICE=cpu to run it on the CPU."
            ) from exc
        log.info("pyannote pipeline %s loaded on %s", self._source.name, device)
        return pipeline

    # --- diarization ------------------------------------------------------------------------

    def diarize(
        self, audio: Audio, hints: SpeakerHints, cancel: CancelToken | None = None
    ) -> Diarization:
        """Speaker turns of ``audio``, sorted by start time, honouring the speaker-count hints,
        with the pipeline's own speaker centroids as voiceprints (pyannote 4 returns them).
        ``cancel`` is checked by the pipeline's progress hook (each batch of its steps)."""
        pipeline = self._pipeline.get()
        if audio.duration < _MIN_AUDIO_SECONDS:
            return Diarization()
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(audio.samples, dtype=np.float32))
        kwargs: dict[str, int] = {}
        if hints.num_speakers is not None:
            kwargs["num_speakers"] = hints.num_speakers
        else:
            if hints.min_speakers is not None:
                kwargs["min_speakers"] = hints.min_speakers
            if hints.max_speakers is not None:
                kwargs["max_speakers"] = hints.max_speakers
        file = {"waveform": waveform.unsqueeze(0), "sample_rate": audio.sample_rate, "uri": "audio"}
        hook = _cancel_hook(cancel) if cancel is not None else None
        with self._run_lock:
            output = pipeline(file, hook=hook, **kwargs)
        return Diarization(
            tuple(_turns_from_output(output, duration=audio.duration)), _centroids(output)
        )

    # --- identification ---------------------------------------------------------------------

    def identify(
        self, audio: Audio, diarization: Diarization, known: Sequence[KnownSpeaker]
    ) -> dict[str, str]:
        """Map diarizer labels to known speakers' names by voice (pipeline's embedding model).

        Each label's voiceprint is the centroid the pipeline's clustering computed, when the
        diarization carries it, else the mean embedding of its longest turns; each known
        speaker's is that of their reference audio. Labels and names are paired one to one (Hungarian
        assignment on cosine similarity) and a pair is kept when its similarity reaches
        ``_MATCH_THRESHOLD``.
        """
        turns = diarization.turns
        if not turns or not known:
            return {}
        pipeline = self._pipeline.get()
        embedder = getattr(pipeline, "_embedding", None)
        if embedder is None:
            log.warning(
                "pyannote pipeline %s has no embedding model: cannot identify", self._source.name
            )
            return {}

        by_label: dict[str, list[SpeakerTurn]] = {}
        for turn in turns:
            by_label.setdefault(turn.speaker, []).append(turn)
        with self._run_lock:
            label_prints: dict[str, npt.NDArray[np.float64]] = {
                label: np.asarray(vector, dtype=np.float64)
                for label, vector in diarization.voiceprints.items()
                if label in by_label
            }
            for label, own in by_label.items():
                if label in label_prints:
                    continue
                pieces = [audio.slice(t.start, t.end).samples for t in own]
                vector = _voiceprint(embedder, pieces, audio.sample_rate)
                if vector is not None:
                    label_prints[label] = vector
            known_prints: dict[str, npt.NDArray[np.float64]] = {}
            for speaker in known:
                vector = _voiceprint(embedder, [speaker.audio.samples], speaker.audio.sample_rate)
                if vector is not None:
                    known_prints[speaker.name] = vector
        return match_voiceprints(label_prints, known_prints, _MATCH_THRESHOLD)


def _centroids(output: Any) -> dict[str, Voiceprint]:
    """pyannote 4's per-speaker centroids (``speaker_embeddings``, in ``labels()`` order) by
    label; none for a bare ``Annotation``, and none that is zero or not finite."""
    vectors = getattr(output, "speaker_embeddings", None)
    annotation = getattr(output, "speaker_diarization", None)
    if vectors is None or annotation is None:
        return {}
    found: dict[str, Voiceprint] = {}
    for label, vector in zip(annotation.labels(), np.asarray(vectors), strict=False):
        norm = float(np.linalg.norm(vector))
        if np.isfinite(norm) and norm > 0:
            found[str(label)] = tuple(float(v) for v in vector)
    return found


def _turns_from_output(output: Any, *, duration: float) -> list[SpeakerTurn]:
    """Speaker turns from pyannote 4's ``DiarizeOutput`` (its exclusive diarization when it has
    one) or from a bare ``Annotation``."""
    annotation = output
    if hasattr(output, "speaker_diarization"):
        annotation = output.speaker_diarization
        alternative = getattr(output, "exclusive_speaker_diarization", None)
        if alternative is not None:
            annotation = alternative
    turns: list[SpeakerTurn] = []
    for segment, _track, label in annotation.itertracks(yield_label=True):
        start = min(max(0.0, float(segment.start)), duration)
        end = min(max(0.0, float(segment.end)), duration)
        if end > start:
            turns.append(SpeakerTurn(start=start, end=end, speaker=str(label)))
    turns.sort(key=lambda t: (t.start, t.end, t.speaker))
    return turns


def _voiceprint(
    embedder: Any, pieces: Sequence[npt.NDArray[np.float32]], sample_rate: int
) -> npt.NDArray[np.float64] | None:
    """Duration-weighted mean of L2-normalised embeddings of ``pieces`` (None if all too short)."""
    import torch

    window = int(_VOICEPRINT_WINDOW_SECONDS * sample_rate)
    shortest = max(int(_VOICEPRINT_MIN_SECONDS * sample_rate), int(embedder.min_num_samples))
    budget = int(_VOICEPRINT_MAX_SECONDS * sample_rate)
    total = np.zeros(0)
    weight = 0.0
    for piece in sorted(pieces, key=len, reverse=True):
        for start in range(0, len(piece), window):
            chunk = piece[start : start + window]
            if len(chunk) < shortest or budget <= 0:
                continue
            chunk = chunk[:budget]
            budget -= len(chunk)
            tensor = torch.from_numpy(np.ascontiguousarray(chunk, dtype=np.float32))
            embedding = np.asarray(embedder(tensor[None, None]), dtype=np.float64)[0]
            norm = float(np.linalg.norm(embedding))
            if not np.isfinite(norm) or norm == 0.0:
                continue
            contribution = embedding / norm * len(chunk)
            total = contribution if total.size == 0 else total + contribution
            weight += len(chunk)
    if weight == 0.0:
        return None
    mean: npt.NDArray[np.float64] = total / weight
    return mean


def _cancel_hook(cancel: CancelToken) -> Any:
    """A pyannote progress hook (called per step and per batch) that stops a cancelled run."""

    def hook(*_: Any, **__: Any) -> None:
        cancel.raise_if_cancelled()

    return hook
