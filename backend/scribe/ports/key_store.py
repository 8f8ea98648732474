from __future__ import annotations

from datetime import datetime
from typing import Protocol

from scribe.domain.keys import ApiKey


class KeyStore(Protocol):
    """Durable API key records (never the keys themselves: only their hashes)."""

    def add(self, key: ApiKey) -> None:
        """Store a new key (its ``key_id`` and ``secret_hash`` are unique)."""
        ...

    def get(self, key_id: str) -> ApiKey | None: ...

    def with_prefix(self, prefix: str) -> list[ApiKey]:
        """Every key, revoked or not, whose ``prefix`` is this one (normally one, or none)."""
        ...

    def all(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        ...

    def any(self) -> bool:
        """Whether a key was ever created (revoked keys count)."""
        ...

    def revoke(self, key_id: str, at: datetime) -> bool:
        """Mark a key revoked; False when there is no such key or it already was."""
        ...

    def touch(self, key_id: str, at: datetime) -> None:
        """Record that the key was just used."""
        ...
