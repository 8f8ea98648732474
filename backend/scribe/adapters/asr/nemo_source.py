"""Where a NeMo ASR model comes from: a local ``.nemo`` file or folder, the Hugging Face cache, or
(when the operator allows it) a Hub download; and one clear error when it is in none of them.

Nothing here imports NeMo or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scribe.domain.errors import ModelUnavailable

DEFAULT_MODEL = "nvidia/parakeet-tdt-0.6b-v2"


@dataclass(frozen=True)
class NemoModelSource:
    """A model reference (``SCRIBE_NEMO_MODEL``) and whether downloads are allowed."""

    ref: str
    allow_downloads: bool = False

    def local_file(self) -> Path | None:
        """The ``.nemo`` file to restore, or None when the model must come from the Hub.

        Raises ``ModelUnavailable`` when the reference can be had neither way.
        """
        ref = self.ref
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
        if not self.allow_downloads:
            raise ModelUnavailable(self._how_to_provide("it is not on this machine"))
        return None

    def unavailable(self, exc: Exception) -> ModelUnavailable:
        """The error to raise when fetching the model from the Hub failed with ``exc``."""
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

    def _how_to_provide(self, problem: str) -> str:
        fix = (
            "SCRIBE_ALLOW_DOWNLOADS is on: give this machine access to huggingface.co and unset "
            "HF_HUB_OFFLINE, or set SCRIBE_NEMO_MODEL=/path/model.nemo"
            if self.allow_downloads
            else "set SCRIBE_NEMO_MODEL=/path/model.nemo, or set SCRIBE_ALLOW_DOWNLOADS=true to "
            "fetch it from the Hugging Face Hub (needs network access and HF_HUB_OFFLINE unset)"
        )
        return (
            f"Cannot load the NeMo ASR model {self.ref!r}: {problem}. To fix it, {fix}. "
            "A .nemo file can be downloaded on a machine with internet access, e.g. from "
            f"https://huggingface.co/{self.ref}."
        )


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
