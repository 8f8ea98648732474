"""Usage per key and day, as the meter keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class UsageEntry:
    """What one finished request adds to its key's day."""

    key_id: str
    day: date
    requests: int = 1
    audio_seconds: float = 0.0
    processing_seconds: float = 0.0
    failures: int = 0


@dataclass(frozen=True)
class UsageDay:
    """The totals of one key on one (UTC) day."""

    key_id: str
    key_name: str
    day: date
    requests: int
    audio_seconds: float
    processing_seconds: float
    failures: int
