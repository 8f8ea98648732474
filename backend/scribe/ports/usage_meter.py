from __future__ import annotations

from datetime import date
from typing import Protocol

from scribe.domain.usage import UsageDay, UsageEntry


class UsageMeter(Protocol):
    """Durable usage totals per key and UTC day."""

    def record(self, entry: UsageEntry) -> None:
        """Add one finished request to its key's day."""
        ...

    def days(self, *, since: date | None = None, key_id: str | None = None) -> list[UsageDay]:
        """Totals per key and day, oldest day first; only ``key_id``'s when given."""
        ...
