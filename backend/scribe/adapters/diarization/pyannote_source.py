"""Where a pyannote pipeline comes from: a local folder (``config.yaml`` and the model files it
names), the Hugging Face cache, or (when the operator allows it) a Hub download with a token;
and one clear error, naming the fix, when it is in none of them.

Nothing here imports pyannote or torch (``huggingface_hub`` only, when it is needed).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scribe.domain.errors import ModelUnavailable

#: The pipeline the service runs unless told otherwise (SCRIBE_PYANNOTE_PIPELINE).
DEFAULT_PIPELINE = "pyannote/speaker-diarization-community-1"

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")

_HUB_OFFLINE_LOCK = threading.Lock()


@contextlib.contextmanager
def hub_offline(enabled: bool) -> Iterator[None]:
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


@dataclass(frozen=True)
class PipelineSource:
    """A pipeline reference (``SCRIBE_PYANNOTE_PIPELINE``), downloads allowed or not, and the
    Hugging Face cache folder (None: huggingface_hub's own)."""

    name: str
    allow_downloads: bool = False
    cache_dir: str | None = None

    def resolve(self) -> str:
        """The local path, or the hub name, to hand to ``Pipeline.from_pretrained``.

        Raises ``ModelUnavailable`` when the pipeline is neither on disk nor to be had.
        """
        name = self.name.strip()
        path = Path(name).expanduser()
        if path.is_dir():
            if not (path / "config.yaml").is_file():
                raise ModelUnavailable(
                    f"The pyannote pipeline folder '{path}' has no config.yaml. Point "
                    "SCRIBE_PYANNOTE_PIPELINE at a folder holding a pipeline's config.yaml and "
                    "the model files it names (for example a downloaded "
                    f"{DEFAULT_PIPELINE})."
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
        if not self.allow_downloads and not self._in_hub_cache(name):
            raise self.unavailable(
                "it is not in the local Hugging Face cache and downloads are off"
            )
        return name

    def _in_hub_cache(self, repo_id: str) -> bool:
        from huggingface_hub import try_to_load_from_cache

        try:
            found = try_to_load_from_cache(repo_id, "config.yaml", cache_dir=self.cache_dir)
        except Exception:  # an id huggingface_hub rejects is not cached either
            return False
        return isinstance(found, str)

    def explain(self, exc: BaseException) -> str:
        """A short, user-facing reason for a failed ``Pipeline.from_pretrained``."""
        from huggingface_hub import errors as hub_errors

        if isinstance(exc, hub_errors.GatedRepoError):
            return (
                "it is a gated model and this token has not been granted access (or no token "
                "was given)"
            )
        if isinstance(exc, hub_errors.RepositoryNotFoundError):
            return "the Hub has no such model, or it is private and no valid token was given"
        if isinstance(exc, hub_errors.OfflineModeIsEnabled | hub_errors.LocalEntryNotFoundError):
            if self.allow_downloads:
                return (
                    "it (or a model it uses) is not in the local Hugging Face cache and the Hub "
                    f"cannot be reached ({type(exc).__name__})"
                )
            return "a model it uses is not in the local Hugging Face cache and downloads are off"
        if isinstance(exc, hub_errors.HfHubHTTPError):
            return f"the Hugging Face Hub refused the download ({exc})"
        return f"loading failed with {type(exc).__name__}: {exc}"

    def unavailable(self, reason: str) -> ModelUnavailable:
        """The startup error for this pipeline, with ``reason`` and how to provide it."""
        name = self.name
        if Path(name).expanduser().exists() or not _HUB_ID.match(name.strip()):
            return ModelUnavailable(
                f"The pyannote diarization pipeline in '{name}' could not be loaded: {reason}. "
                "Check that its config.yaml names model files inside the folder (such as "
                "`$model/segmentation`) or hub models already in the local Hugging Face cache; "
                "to let Scribe fetch the hub models it names, set HF_TOKEN to a token of an "
                "account that accepted their user conditions and set "
                "SCRIBE_ALLOW_DOWNLOADS=true. SCRIBE_DIARIZER=embedded needs no download at all."
            )
        if self.allow_downloads:
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
