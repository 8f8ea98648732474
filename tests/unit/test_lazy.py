"""Lazy: load once, on first use, from any number of threads; a failed load is tried again."""

from __future__ import annotations

import threading
import time

import pytest

from scribe.adapters.lazy import Lazy


def test_loads_once_on_first_get() -> None:
    calls: list[int] = []

    def load() -> str:
        calls.append(1)
        return "model"

    lazy = Lazy(load)
    assert not lazy.loaded and lazy.peek() is None and calls == []
    assert lazy.get() == "model" and lazy.get() == "model"
    assert lazy.loaded and lazy.peek() == "model" and calls == [1]


def test_concurrent_first_calls_load_once() -> None:
    calls: list[int] = []
    gate = threading.Barrier(8)

    def load() -> object:
        calls.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while loading
        return object()

    lazy = Lazy(load)
    seen: list[object] = []

    def worker() -> None:
        gate.wait()
        seen.append(lazy.get())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(seen) == 8 and all(s is seen[0] for s in seen)


def test_errors_propagate_and_a_later_call_retries() -> None:
    attempts: list[int] = []

    def load() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("not yet")
        return 42

    lazy = Lazy(load)
    with pytest.raises(RuntimeError, match="not yet"):
        lazy.get()
    assert not lazy.loaded
    assert lazy.get() == 42 and len(attempts) == 2


def test_none_is_a_value_and_reset_forgets_it() -> None:
    calls: list[int] = []

    def load() -> None:
        calls.append(1)

    lazy: Lazy[None] = Lazy(load)
    lazy.get()
    lazy.get()
    assert lazy.loaded and calls == [1]
    assert lazy.reset() is None and not lazy.loaded
    lazy.get()
    assert calls == [1, 1]
    assert Lazy(lambda: 5).reset() is None
