"""The evaluation manifest: which clips to score and where their references are."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scribe.domain.errors import InvalidRequest


@dataclass(frozen=True)
class Clip:
    """One recording of the manifest; paths are absolute (resolved against the manifest)."""

    id: str
    audio: Path
    duration: float | None = None
    speakers: int | None = None
    reference_text: Path | None = None
    rttm: Path | None = None
    uem: Path | None = None


def load_manifest(path: str | Path) -> list[Clip]:
    """Read a manifest (a JSON list of clips, paths relative to the manifest's folder).

    Each entry needs ``id`` and ``audio``; ``duration_s``, ``speakers``, ``reference_text``,
    ``rttm`` and ``uem`` are optional (missing or null means "no such reference").
    """
    manifest = Path(path)
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidRequest(f"Evaluation manifest not found: {manifest}") from None
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"Evaluation manifest {manifest} is not valid JSON: {exc}") from None
    if not isinstance(raw, list):
        raise InvalidRequest(
            f"Evaluation manifest {manifest} must hold a JSON list of clips, "
            f"got {type(raw).__name__}."
        )
    base = manifest.resolve().parent
    clips: list[Clip] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or "audio" not in entry:
            raise InvalidRequest(
                f"Entry {index} of {manifest} needs at least an 'audio' path (and an 'id')."
            )
        audio = base / str(entry["audio"])
        clips.append(
            Clip(
                id=str(entry.get("id") or audio.stem),
                audio=audio,
                duration=_optional_float(entry.get("duration_s")),
                speakers=_optional_int(entry.get("speakers")),
                reference_text=_optional_path(base, entry.get("reference_text")),
                rttm=_optional_path(base, entry.get("rttm")),
                uem=_optional_path(base, entry.get("uem")),
            )
        )
    return clips


def _optional_path(base: Path, value: Any) -> Path | None:
    return base / str(value) if value else None


def _optional_float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None
