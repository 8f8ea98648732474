"""A stage's work cut into independent pieces, and running pieces on a few threads.

Segmentation's window batches and CAM++'s feature blocks each depend only on the audio, so the
diarizer runs them all from one list on ``workers`` threads, each taking the next piece not yet
started: on idle cores the stages finish together, and beside ASR they take idle time on any
core. Each piece runs single-threaded (onnxruntime and torch at one intra-op thread), so
threads never wait on each other inside a piece.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from scribe.domain.cancellation import CancelToken

Result = TypeVar("Result")


@dataclass(frozen=True)
class Pieces(Generic[Result]):
    """Independent pieces of work, and how their results (in order) make the stage's."""

    pieces: Sequence[Callable[[], Any]]
    finish: Callable[[list[Any]], Result]

    def run(self, cancel: CancelToken | None = None) -> Result:
        """The stage's result, its pieces run in turn on this thread."""
        return self.finish(run_pieces(self.pieces, 1, cancel))


def run_pieces(
    pieces: Sequence[Callable[[], Any]], workers: int, cancel: CancelToken | None = None
) -> list[Any]:
    """Every piece's result, in order, the pieces run on ``workers`` threads: this one and up
    to ``workers - 1`` new ones. A new thread takes its creator's nice value, so the helpers
    run at the caller's priority (``SCRIBE_DIARIZER_NICE``).

    ``cancel`` is checked before each piece. The first error (``Cancelled`` included) stops
    every thread before its next piece and is raised once they have stopped.
    """
    results: list[Any] = [None] * len(pieces)
    errors: list[BaseException] = []
    lock = threading.Lock()
    taken = 0

    def work() -> None:
        nonlocal taken
        while True:
            with lock:
                if errors or taken >= len(pieces):
                    return
                index, taken = taken, taken + 1
            try:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                results[index] = pieces[index]()
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                return

    helpers = min(workers, len(pieces)) - 1
    if helpers <= 0:
        work()
    else:
        with ThreadPoolExecutor(max_workers=helpers, thread_name_prefix="diarize-worker") as pool:
            for _ in range(helpers):
                pool.submit(work)
            work()
    if errors:
        raise errors[0]
    return results
