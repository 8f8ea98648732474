"""``RateLimiter`` on the ``limits`` library.

- requests per minute: a moving window (no burst at a window's edge);
- audio seconds per hour: a fixed window, because decoded audio is charged after the fact, even
  past the limit (the next request is then refused until the window ends);
- concurrent requests: a counter incremented on admission and decremented when the request ends.
  It expires an hour after it was last at zero, so slots a crashed process held come back.

Storage is memory (one process) or Redis (``redis://``: shared by every API process).
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from scribe.domain.errors import ConfigurationError, StorageUnavailable
from scribe.domain.limits import WindowState

log = logging.getLogger(__name__)
_NAMESPACE = "scribe"
_SLOT_EXPIRY_S = 3600
P = ParamSpec("P")
R = TypeVar("R")


def _storage_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Redis going away is a 503 for the request, not a crash."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except StorageError as exc:
            log.error("rate-limit storage failed: %s", exc.storage_error)
            raise StorageUnavailable(
                "The service's rate-limit store is unavailable; try again shortly."
            ) from None

    return wrapper


class LimitsRateLimiter:
    def __init__(self, storage_url: str | None = None) -> None:
        try:
            storage = (
                MemoryStorage()
                if storage_url is None
                else storage_from_string(storage_url, wrap_exceptions=True)
            )
        except (LimitsConfigurationError, ValueError, ImportError) as exc:
            raise ConfigurationError(
                f"SCRIBE_REDIS_URL is not a usable Redis URL ({exc}).", code="invalid_redis_url"
            ) from None
        if not isinstance(storage, Storage):  # an async+ scheme
            raise ConfigurationError(
                "SCRIBE_REDIS_URL must be a redis:// (or rediss://) URL.", code="invalid_redis_url"
            )
        self._storage: Storage = storage
        self._moving = MovingWindowRateLimiter(self._storage)
        self._fixed = FixedWindowRateLimiter(self._storage)

    @property
    def shared(self) -> bool:
        return not isinstance(self._storage, MemoryStorage)

    def check(self) -> bool:
        """Whether the storage answers (Redis may be down)."""
        return bool(self._storage.check())

    @_storage_errors
    def hit_request(self, key_id: str, per_minute: int) -> WindowState:
        item = RateLimitItemPerMinute(per_minute, namespace=_NAMESPACE)
        allowed = self._moving.hit(item, "requests", key_id)
        stats = self._moving.get_window_stats(item, "requests", key_id)
        reset = _until(stats.reset_time)
        if stats.remaining > 0 or allowed:
            reset = min(reset, 60.0)
        return WindowState(per_minute, stats.remaining, reset, allowed)

    @_storage_errors
    def audio_budget(self, key_id: str, seconds_per_hour: int) -> WindowState:
        item = RateLimitItemPerHour(seconds_per_hour, namespace=_NAMESPACE)
        stats = self._fixed.get_window_stats(item, "audio", key_id)
        return WindowState(seconds_per_hour, stats.remaining, _until(stats.reset_time, 3600.0))

    @_storage_errors
    def charge_audio(self, key_id: str, seconds_per_hour: int, seconds: float) -> WindowState:
        item = RateLimitItemPerHour(seconds_per_hour, namespace=_NAMESPACE)
        cost = max(1, math.ceil(seconds))
        allowed = self._fixed.hit(item, "audio", key_id, cost=cost)
        stats = self._fixed.get_window_stats(item, "audio", key_id)
        return WindowState(
            seconds_per_hour, stats.remaining, _until(stats.reset_time, 3600.0), allowed
        )

    @_storage_errors
    def acquire_slot(self, key_id: str, limit: int) -> bool:
        key = f"{_NAMESPACE}/concurrent/{key_id}"
        if self._storage.incr(key, _SLOT_EXPIRY_S, 1) <= limit:
            return True
        self._storage.incr(key, _SLOT_EXPIRY_S, -1)
        return False

    @_storage_errors
    def release_slot(self, key_id: str) -> None:
        key = f"{_NAMESPACE}/concurrent/{key_id}"
        if self._storage.incr(key, _SLOT_EXPIRY_S, -1) < 0:
            # The counter expired while requests were in flight: start again from zero.
            self._storage.clear(key)


def _until(epoch: float, default: float = 0.0) -> float:
    remaining = epoch - time.time()
    return remaining if remaining > 0 else default
