"""Download progress as log lines, for the models fetched from the Hugging Face Hub at first
start (NeMo Parakeet, pyannote; SCRIBE_ALLOW_DOWNLOADS=true).

Both libraries download through ``huggingface_hub``, which draws a tqdm bar per file: on a
container's log (not a terminal) that is a stream of carriage returns. ``hub_download_progress``
makes huggingface_hub use ``LoggingProgress`` instead while a model loads: a tqdm whose output
is INFO lines through the logging setup (``downloading FILE: 1.2 GB of 2.4 GB (50 %)``), at most
one every ``LOG_EVERY_SECONDS`` per file, plus one when the file is complete. On a terminal the
usual bars stay.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm.auto import tqdm

log = logging.getLogger("scribe.downloads")

LOG_EVERY_SECONDS = 5.0
_installed = threading.Lock()


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"  # pragma: no cover (the loop returns)


class ProgressReporter:
    """Turns (bytes done, total) updates of one file into INFO lines, rate-limited."""

    def __init__(
        self,
        name: str,
        total: float | None,
        *,
        every: float = LOG_EVERY_SECONDS,
        clock: Any = time.monotonic,
    ) -> None:
        self.name = name
        self.total = total or None
        self._every = every
        self._clock = clock
        self._last = -every
        self._done = 0.0
        self._finished = False

    def line(self) -> str:
        done = human_bytes(self._done)
        if self.total:
            percent = 100.0 * self._done / self.total
            return f"downloading {self.name}: {done} of {human_bytes(self.total)} ({percent:.0f} %)"
        return f"downloading {self.name}: {done}"

    def update(self, done: float) -> None:
        """``done`` bytes of the file so far."""
        self._done = done
        now = self._clock()
        if now - self._last >= self._every:
            self._last = now
            log.info("%s", self.line())

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self.total and self._done >= self.total:
            log.info("downloaded %s (%s)", self.name, human_bytes(self.total))
        else:
            log.info("%s: stopped", self.line())


class LoggingProgress(tqdm):  # type: ignore[misc,type-arg]
    """A tqdm that logs (see ``ProgressReporter``) instead of drawing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("name", None)  # huggingface_hub's own keyword, not tqdm's
        kwargs["disable"] = False
        kwargs["file"] = _Discard()
        super().__init__(*args, **kwargs)
        self._reporter = ProgressReporter(str(self.desc or "a file"), self.total)

    def update(self, n: float | None = 1) -> bool | None:
        shown = super().update(n)
        self._reporter.update(self.n)
        return shown

    def close(self) -> None:
        if not getattr(self, "disable", True) and hasattr(self, "_reporter"):
            self._reporter.update(self.n)
            self._reporter.finish()
        super().close()


class _Discard:
    """Where LoggingProgress's bar goes: nowhere."""

    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        pass


@contextmanager
def hub_download_progress(enabled: bool = True) -> Iterator[None]:
    """While inside, huggingface_hub's downloads log their progress (when ``enabled``: downloads
    are allowed, and stderr is not a terminal). Process-wide while it lasts, so one at a time."""
    if not enabled or sys.stderr.isatty():
        yield
        return
    bars = _hub_bars()
    if bars is None:
        yield
        return
    with _installed:
        # _get_progress_bar_context falls back to this module's ``tqdm`` when the caller gives
        # no tqdm_class (hf_hub_download, as NeMo and pyannote call it).
        previous = bars.tqdm
        bars.tqdm = type("LoggingHubProgress", (LoggingProgress, previous), {})
        try:
            yield
        finally:
            bars.tqdm = previous


def _hub_bars() -> Any:
    """huggingface_hub's progress-bar module, or None without huggingface_hub."""
    import importlib

    try:
        return importlib.import_module("huggingface_hub.utils.tqdm")
    except ImportError:
        return None
