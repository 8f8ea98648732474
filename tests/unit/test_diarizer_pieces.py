"""Running a stage's independent pieces of work on a few threads (the embedded diarizer's)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from scribe.adapters.diarization.embedded.pieces import Pieces, run_pieces
from scribe.domain.errors import Cancelled
from tests.fakes import StopAfter


def _pieces(n: int, started: list[int], seconds: float = 0.0) -> list[Callable[[], int]]:
    def piece(i: int) -> int:
        started.append(i)
        time.sleep(seconds)
        return i * i

    return [lambda i=i: piece(i) for i in range(n)]  # type: ignore[misc]


@pytest.mark.parametrize("workers", [1, 2, 3, 20])
def test_results_come_back_in_order_whatever_the_threads(workers: int) -> None:
    started: list[int] = []
    assert run_pieces(_pieces(12, started, 0.001), workers) == [i * i for i in range(12)]
    assert sorted(started) == list(range(12))
    assert run_pieces([], workers) == []


def test_the_pieces_share_the_threads() -> None:
    threads: set[str] = set()
    barrier = threading.Barrier(2, timeout=5)

    def piece() -> None:
        threads.add(threading.current_thread().name)
        barrier.wait()  # two pieces at once, or this times out

    run_pieces([piece, piece], 2)
    assert len(threads) == 2
    assert not [t for t in threading.enumerate() if t.name.startswith("diarize-worker")]


def test_an_error_stops_the_other_pieces_and_is_raised() -> None:
    started: list[int] = []

    def broken() -> int:
        raise RuntimeError("piece failed")

    pieces = [*_pieces(2, started, 0.05), broken, *_pieces(20, started, 0.05)]
    with pytest.raises(RuntimeError, match="piece failed"):
        run_pieces(pieces, 2)
    assert len(started) <= 4  # the two before it, and at most one more per thread


def test_a_cancel_is_checked_before_each_piece() -> None:
    started: list[int] = []
    token = StopAfter(4)
    with pytest.raises(Cancelled, match="stop"):
        run_pieces(_pieces(10, started), 1, token)
    assert started == [0, 1, 2]


def test_a_stage_runs_its_pieces_and_finishes() -> None:
    started: list[int] = []
    stage = Pieces(_pieces(4, started), finish=sum)
    assert stage.run() == 0 + 1 + 4 + 9
    assert started == [0, 1, 2, 3]
