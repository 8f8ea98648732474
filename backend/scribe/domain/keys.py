"""API keys as they are stored: never the key itself, only its SHA-256 and a short prefix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .caller import Scope
from .limits import KeyLimits


@dataclass(frozen=True)
class ApiKey:
    """One key's record. ``prefix`` (the first characters of the key) identifies it in lists and
    logs; ``secret_hash`` is the hex SHA-256 of the whole key."""

    key_id: str
    name: str
    prefix: str
    secret_hash: str
    scope: Scope
    created_at: datetime
    limits: KeyLimits = field(default_factory=KeyLimits)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: the record, and the secret that is shown once and never stored."""

    record: ApiKey
    secret: str
