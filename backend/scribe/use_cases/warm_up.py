"""WarmUp: load every model once, in the background, and report readiness."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from scribe.domain.errors import ModelUnavailable, NotReady, ScribeError

log = logging.getLogger(__name__)

# While models load, clients are told to come back after this long (the openai SDK honours
# Retry-After between its retries).
NOT_READY_RETRY_SECONDS = 10.0


class WarmUp:
    """Runs the loaders (one per model) and remembers whether they all succeeded."""

    def __init__(
        self,
        loaders: Sequence[tuple[str, Callable[[], None]]],
        retry_after: float = NOT_READY_RETRY_SECONDS,
    ) -> None:
        self._loaders = tuple(loaders)
        self._retry_after = retry_after
        self._done = threading.Event()
        self._error: ScribeError | None = None
        self.seconds: float | None = None

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self._error is None

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    @property
    def error(self) -> ScribeError | None:
        return self._error

    def run(self) -> None:
        """Load everything (blocking). Errors are kept, not raised; see ``error``."""
        started = time.perf_counter()
        try:
            for name, load in self._loaders:
                log.info("loading %s", name)
                t0 = time.perf_counter()
                load()
                log.info("loaded %s in %.1f s", name, time.perf_counter() - t0)
        except ScribeError as exc:
            self._error = exc
        except Exception as exc:  # a library failing in a way its adapter did not foresee
            log.exception("model loading failed")
            self._error = ModelUnavailable(f"Loading the models failed: {exc}")
        finally:
            self.seconds = time.perf_counter() - started
            self._done.set()

    def start(self, on_done: Callable[[WarmUp], None] | None = None) -> threading.Thread:
        """Load in a background thread; ``on_done`` is called when it ends."""

        def target() -> None:
            self.run()
            if on_done is not None:
                on_done(self)

        thread = threading.Thread(target=target, name="warm-up", daemon=True)
        thread.start()
        return thread

    @property
    def retry_after(self) -> float:
        """Seconds a client should wait before asking again while loading."""
        return self._retry_after

    def require_ready(self) -> None:
        """Raise NotReady (or the loading error) unless every model is loaded."""
        if self._error is not None:
            raise self._error
        if not self._done.is_set():
            raise NotReady(
                "The models are still loading; try again shortly (see GET /health/ready).",
                retry_after=self.retry_after,
            )
