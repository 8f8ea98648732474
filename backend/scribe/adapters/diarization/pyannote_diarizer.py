"""pyannote.audio 4.x speaker diarization behind the ``Diarizer`` port (the production diarizer).

The pipeline is a local folder (``config.yaml`` plus its segmentation, embedding and PLDA files,
e.g. a downloaded ``pyannote/speaker-diarization-community-1``) or a Hugging Face Hub name such as
``pyannote/speaker-diarization-3.1``. A hub name is taken from the local Hugging Face cache; it is
downloaded only when ``allow_downloads`` is true (gated models also need a token whose account
accepted the model's conditions). Audio is handed over in memory as a ``(1, n)`` tensor, so
pyannote's own file decoding (torchcodec) is never used.

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

import contextlib
import logging
import os
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from scribe.adapters.torchaudio_compat import ensure_torchaudio_importable
from scribe.domain.audio import Audio
from scribe.domain.errors import ModelUnavailable
from scribe.domain.options import KnownSpeaker, SpeakerHints
from scribe.domain.transcript import SpeakerTurn

log = logging.getLogger(__name__)

DEFAULT_PIPELINE = "pyannote/speaker-diarization-3.1"

# Audio shorter than this holds no speaker turn worth reporting (and pyannote needs a few samples).
_MIN_AUDIO_SECONDS = 0.1
# Voiceprints for identify(): each speaker's audio is embedded in windows of at most this length,
# using at most this much of it (longest turns first), skipping pieces shorter than the minimum.
_VOICEPRINT_WINDOW_SECONDS = 10.0
_VOICEPRINT_MAX_SECONDS = 60.0
_VOICEPRINT_MIN_SECONDS = 0.5

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")

_HUB_OFFLINE_LOCK = threading.Lock()


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


@contextlib.contextmanager
def _hub_offline(enabled: bool) -> Iterator[None]:
    """While loading with downloads off, make huggingface_hub use its local cache only.

    ``HF_HUB_OFFLINE`` is read once, when huggingface_hub is imported, so setting the variable
    now would do nothing; its module constant is set instead, for the duration of the load. This
    only ever moves the process towards the operator's own setting (no downloads).
    """
    if not enabled:
        yield
        return
    from huggingface_hub import constants

    with _HUB_OFFLINE_LOCK:
        previous = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = True
        try:
            yield
        finally:
            constants.HF_HUB_OFFLINE = previous


class PyannoteDiarizer:
    """pyannote.audio 4.x speaker diarization (``speaker-diarization-3.1`` / ``-community-1``).

    ``pipeline`` is a local folder with ``config.yaml`` (or that file itself) or a hub name.
    ``device`` is ``cpu``, ``cuda``, ``cuda:N`` or ``auto``. ``hf_token`` is used for gated hub
    models (huggingface_hub also reads ``HF_TOKEN`` itself). ``cache_dir`` overrides the Hugging
    Face cache folder. With ``exclusive`` (the default) turns come from pyannote's exclusive
    diarization (no overlapping turns, made for aligning with a transcript); otherwise from the
    full diarization. ``match_threshold`` is the least cosine similarity at which ``identify``
    names a speaker. The pipeline is not thread-safe: calls are serialised.
    """

    def __init__(
        self,
        pipeline: str,
        device: str = "cpu",
        hf_token: str | None = None,
        allow_downloads: bool = False,
        *,
        cache_dir: str | Path | None = None,
        exclusive: bool = True,
        match_threshold: float = 0.5,
    ) -> None:
        self._source = pipeline
        self._device = device
        self._hf_token = hf_token or None
        self._allow_downloads = allow_downloads
        self._cache_dir = str(cache_dir) if cache_dir is not None else None
        self._exclusive = exclusive
        self._match_threshold = match_threshold
        self._pipeline: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def name(self) -> str:
        return "pyannote"

    @property
    def loaded(self) -> bool:
        """Whether ``load`` has succeeded."""
        return self._pipeline is not None

    # --- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        """Load the pipeline once (thread-safe); raise ``ModelUnavailable`` when it cannot be had."""
        if self._pipeline is not None:
            return
        with self._load_lock:
            if self._pipeline is not None:
                return
            self._pipeline = self._load()

    def _load(self) -> Any:
        source = self._resolve_source()  # first: a missing model fails fast, before heavy imports
        try:
            prepare_pyannote_import()
            import torch
            from pyannote.audio import Pipeline
        except (ImportError, OSError) as exc:
            raise ModelUnavailable(
                f"The pyannote diarizer needs the pyannote.audio package, which cannot be "
                f"imported ({exc}). Install the production engines with "
                "`pip install -c constraints.txt '.[gpu]'`, or set SCRIBE_DIARIZER=embedded."
            ) from exc

        device = self._torch_device(torch)
        try:
            with _hub_offline(not self._allow_downloads):
                pipeline = Pipeline.from_pretrained(
                    source, token=self._hf_token, cache_dir=self._cache_dir
                )
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise self._unavailable(self._explain(exc)) from exc
        if pipeline is None:
            raise self._unavailable("pyannote could not fetch its config.yaml")
        try:
            pipeline.to(device)
        except Exception as exc:
            raise ModelUnavailable(
                f"The pyannote pipeline '{self._source}' loaded but could not be moved to "
                f"device '{device}': {exc}. Set SCRIBE_DEVICE=cpu to run it on the CPU."
            ) from exc
        log.info("pyannote pipeline %s loaded on %s", self._source, device)
        return pipeline

    def _torch_device(self, torch: Any) -> Any:
        wanted = self._device.strip().lower() or "cpu"
        if wanted == "auto":
            wanted = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            device = torch.device(wanted)
        except (RuntimeError, ValueError) as exc:
            raise ModelUnavailable(
                f"Unknown device '{self._device}' for the pyannote diarizer: use cpu, cuda, "
                "cuda:N or auto (SCRIBE_DEVICE)."
            ) from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ModelUnavailable(
                f"The pyannote diarizer was asked to run on '{self._device}' but this torch "
                f"build ({torch.__version__}) sees no CUDA GPU. Set SCRIBE_DEVICE=cpu, or "
                "install a CUDA build of torch on a machine with an NVIDIA GPU."
            )
        return device

    def _resolve_source(self) -> str:
        """The local path, or the hub name, to hand to ``Pipeline.from_pretrained``."""
        name = self._source.strip()
        path = Path(name).expanduser()
        if path.is_dir():
            if not (path / "config.yaml").is_file():
                raise ModelUnavailable(
                    f"The pyannote pipeline folder '{path}' has no config.yaml. Point "
                    "SCRIBE_PYANNOTE_PIPELINE at a folder holding a pipeline's config.yaml and "
                    "the model files it names (for example a downloaded "
                    "pyannote/speaker-diarization-community-1)."
                )
            return str(path)
        if path.is_file():
            return str(path)
        if not _HUB_ID.match(name):
            raise ModelUnavailable(
                f"The pyannote pipeline folder '{name}' does not exist. Set "
                "SCRIBE_PYANNOTE_PIPELINE to an existing folder holding the pipeline's "
                "config.yaml and model files, or to a Hugging Face model name such as "
                f"{DEFAULT_PIPELINE}."
            )
        if not self._allow_downloads and not self._in_hub_cache(name):
            raise self._unavailable(
                "it is not in the local Hugging Face cache and downloads are off"
            )
        return name

    def _in_hub_cache(self, repo_id: str) -> bool:
        from huggingface_hub import try_to_load_from_cache

        try:
            found = try_to_load_from_cache(repo_id, "config.yaml", cache_dir=self._cache_dir)
        except Exception:  # an id huggingface_hub rejects is not cached either
            return False
        return isinstance(found, str)

    def _explain(self, exc: BaseException) -> str:
        """A short, user-facing reason for a failed load."""
        from huggingface_hub import errors as hub_errors

        if isinstance(exc, hub_errors.GatedRepoError):
            return (
                "it is a gated model and this token has not been granted access (or no token "
                "was given)"
            )
        if isinstance(exc, hub_errors.RepositoryNotFoundError):
            return "the Hub has no such model, or it is private and no valid token was given"
        if isinstance(exc, hub_errors.OfflineModeIsEnabled | hub_errors.LocalEntryNotFoundError):
            if self._allow_downloads:
                return (
                    "it (or a model it uses) is not in the local Hugging Face cache and the Hub "
                    f"cannot be reached ({type(exc).__name__})"
                )
            return "a model it uses is not in the local Hugging Face cache and downloads are off"
        if isinstance(exc, hub_errors.HfHubHTTPError):
            return f"the Hugging Face Hub refused the download ({exc})"
        return f"loading failed with {type(exc).__name__}: {exc}"

    def _unavailable(self, reason: str) -> ModelUnavailable:
        name = self._source
        if Path(name).expanduser().exists() or not _HUB_ID.match(name.strip()):
            return ModelUnavailable(
                f"The pyannote diarization pipeline in '{name}' could not be loaded: {reason}. "
                "Check that its config.yaml names model files inside the folder (such as "
                "`$model/segmentation`) or hub models already in the local Hugging Face cache; "
                "to let Scribe fetch the hub models it names, set HF_TOKEN to a token of an "
                "account that accepted their user conditions and set "
                "SCRIBE_ALLOW_DOWNLOADS=true. SCRIBE_DIARIZER=embedded needs no download at all."
            )
        if self._allow_downloads:
            download = "; this machine must reach the Hugging Face Hub once to download it"
        else:
            download = (
                ", and set SCRIBE_ALLOW_DOWNLOADS=true so it is downloaded once into the Hugging "
                "Face cache"
            )
        return ModelUnavailable(
            f"The pyannote diarization pipeline '{name}' is not available: {reason}. "
            "To provide it, either (1) accept the user conditions of the model "
            f"(https://hf.co/{name}) and of the models it uses with your Hugging Face account "
            f"and set HF_TOKEN to a token of that account{download}; or (2) set "
            "SCRIBE_PYANNOTE_PIPELINE=/path/to/local/folder holding the pipeline's config.yaml "
            "and model files. SCRIBE_DIARIZER=embedded needs no download at all."
        )

    def _loaded_pipeline(self) -> Any:
        self.load()
        return self._pipeline

    # --- diarization ------------------------------------------------------------------------

    def diarize(self, audio: Audio, hints: SpeakerHints) -> list[SpeakerTurn]:
        """Speaker turns of ``audio``, sorted by start time, honouring the speaker-count hints."""
        pipeline = self._loaded_pipeline()
        if audio.duration < _MIN_AUDIO_SECONDS:
            return []
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
        with self._run_lock:
            output = pipeline(file, **kwargs)
        return _turns_from_output(output, duration=audio.duration, exclusive=self._exclusive)

    # --- identification ---------------------------------------------------------------------

    def identify(
        self, audio: Audio, turns: Sequence[SpeakerTurn], known: Sequence[KnownSpeaker]
    ) -> dict[str, str]:
        """Map diarizer labels to known speakers' names by voice (pipeline's embedding model).

        Each label's voiceprint is the mean embedding of its longest turns; each known speaker's
        is that of their reference audio. Labels and names are paired one to one (Hungarian
        assignment on cosine similarity) and a pair is kept when its similarity reaches
        ``match_threshold``.
        """
        if not turns or not known:
            return {}
        pipeline = self._loaded_pipeline()
        embedder = getattr(pipeline, "_embedding", None)
        if embedder is None:
            log.warning(
                "pyannote pipeline %s has no embedding model: cannot identify", self._source
            )
            return {}

        by_label: dict[str, list[SpeakerTurn]] = {}
        for turn in turns:
            by_label.setdefault(turn.speaker, []).append(turn)
        with self._run_lock:
            label_prints: dict[str, npt.NDArray[np.float64]] = {}
            for label, own in by_label.items():
                pieces = [audio.slice(t.start, t.end).samples for t in own]
                vector = _voiceprint(embedder, pieces, audio.sample_rate)
                if vector is not None:
                    label_prints[label] = vector
            known_prints: list[tuple[str, npt.NDArray[np.float64]]] = []
            for speaker in known:
                vector = _voiceprint(embedder, [speaker.audio.samples], speaker.audio.sample_rate)
                if vector is not None:
                    known_prints.append((speaker.name, vector))
        return match_voiceprints(label_prints, known_prints, self._match_threshold)


def _turns_from_output(output: Any, *, duration: float, exclusive: bool) -> list[SpeakerTurn]:
    """Speaker turns from pyannote 4's ``DiarizeOutput`` or from a bare ``Annotation``."""
    annotation = output
    if hasattr(output, "speaker_diarization"):
        annotation = output.speaker_diarization
        alternative = getattr(output, "exclusive_speaker_diarization", None)
        if exclusive and alternative is not None:
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


def match_voiceprints(
    labels: dict[str, npt.NDArray[np.float64]],
    known: Sequence[tuple[str, npt.NDArray[np.float64]]],
    threshold: float,
) -> dict[str, str]:
    """Pair labels with known names one to one, maximising total cosine similarity.

    Pairs whose similarity is below ``threshold`` are dropped.
    """
    if not labels or not known:
        return {}
    from scipy.optimize import linear_sum_assignment

    names = [label for label in labels]
    a = np.stack([labels[label] for label in names])
    b = np.stack([vector for _, vector in known])
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    similarity = a @ b.T
    rows, cols = linear_sum_assignment(-similarity)
    return {
        names[r]: known[c][0]
        for r, c in zip(rows, cols, strict=True)
        if similarity[r, c] >= threshold
    }
