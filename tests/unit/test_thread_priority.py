"""Lowering one thread's CPU priority: that thread's nice value, and no other's."""

import os
import sys
import threading

import pytest

from scribe.adapters.thread_priority import lower_thread_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux nice")


def _niceness_after(setup: object) -> tuple[int, int]:
    """(the thread's nice value after ``setup``, the process's main thread's)."""
    found: list[int] = []

    def run() -> None:
        setup()  # type: ignore[operator]
        found.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return found[0], os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_the_calling_thread_alone_is_lowered() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    if base > 14:
        pytest.skip(f"the tests run at nice {base}: no room to lower a thread by 5 and see it")
    lowered, main = _niceness_after(lower_thread_priority(5))
    assert lowered == min(19, base + 5)
    assert main == base


def test_niceness_is_capped_and_zero_changes_nothing() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert _niceness_after(lower_thread_priority(40))[0] == 19
    assert _niceness_after(lower_thread_priority(0))[0] == base
