"""Load a model once, on first use, from any thread: the one pattern every model adapter uses."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")

_UNSET: object = object()


class Lazy(Generic[T]):
    """A value built by ``loader`` on the first ``get()``, then kept.

    Thread-safe: concurrent first calls run the loader once (double-checked under a lock); later
    calls take no lock. When the loader raises, the error reaches the caller and nothing is kept,
    so a later ``get()`` tries again.
    """

    def __init__(self, loader: Callable[[], T]) -> None:
        self._loader = loader
        self._value: object = _UNSET
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the value has been built (and not reset since)."""
        return self._value is not _UNSET

    def get(self) -> T:
        """The value, built now by the loader if this is the first call."""
        value = self._value
        if value is _UNSET:
            with self._lock:
                value = self._value
                if value is _UNSET:
                    value = self._value = self._loader()
        return cast(T, value)

    def peek(self) -> T | None:
        """The value if it has been built, else None; never loads."""
        value = self._value
        return None if value is _UNSET else cast(T, value)

    def reset(self) -> T | None:
        """Forget the value (the next ``get()`` loads again); return it, or None if none was kept."""
        with self._lock:
            value, self._value = self._value, _UNSET
        return None if value is _UNSET else cast(T, value)
