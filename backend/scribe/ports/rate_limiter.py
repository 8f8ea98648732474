from __future__ import annotations

from typing import Protocol

from scribe.domain.limits import WindowState


class RateLimiter(Protocol):
    """Counters per key, shared by every process that uses the same storage.

    Limits are counts; a ``limit`` of 0 is never passed (the use case skips limits that are off).
    """

    def hit_request(self, key_id: str, per_minute: int) -> WindowState:
        """Count one request in the key's minute; ``allowed`` is False (and nothing is counted)
        when the minute is full."""
        ...

    def audio_budget(self, key_id: str, seconds_per_hour: int) -> WindowState:
        """The key's audio seconds left this hour, without charging any."""
        ...

    def charge_audio(self, key_id: str, seconds_per_hour: int, seconds: float) -> WindowState:
        """Charge decoded audio to the key's hour, even past the limit (it has been decoded)."""
        ...

    def acquire_slot(self, key_id: str, limit: int) -> bool:
        """Take one of the key's ``limit`` concurrent-request slots; False when all are taken."""
        ...

    def release_slot(self, key_id: str) -> None:
        """Give back a slot taken by ``acquire_slot``."""
        ...
