"""Per-key rate limits, as the domain sees them (0 means no limit)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RatePolicy:
    """The limits one key runs under. Every value is a count; 0 turns that limit off."""

    requests_per_minute: int = 0
    audio_seconds_per_hour: int = 0
    concurrent_requests: int = 0

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "audio_seconds_per_hour", "concurrent_requests"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 (no limit) or positive")


@dataclass(frozen=True)
class KeyLimits:
    """A key's own limits, set at `keys create`; None takes the server's default."""

    requests_per_minute: int | None = None
    audio_seconds_per_hour: int | None = None
    concurrent_requests: int | None = None

    def over(self, defaults: RatePolicy) -> RatePolicy:
        """The policy these overrides give on top of the server's defaults."""
        return RatePolicy(
            requests_per_minute=_pick(self.requests_per_minute, defaults.requests_per_minute),
            audio_seconds_per_hour=_pick(
                self.audio_seconds_per_hour, defaults.audio_seconds_per_hour
            ),
            concurrent_requests=_pick(self.concurrent_requests, defaults.concurrent_requests),
        )


def _pick(own: int | None, default: int) -> int:
    return default if own is None else own


@dataclass(frozen=True)
class WindowState:
    """Where a caller stands in one limit's window (for the ``x-ratelimit-*`` headers).

    ``allowed`` is False when the request that asked does not fit; ``reset_after`` is the number
    of seconds until the window has room again (or ends).
    """

    limit: int
    remaining: int
    reset_after: float
    allowed: bool = True
