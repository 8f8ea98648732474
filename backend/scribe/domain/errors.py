"""Domain errors. Adapters translate library errors into these; only the API layer maps them to HTTP."""

from __future__ import annotations

import math

from .limits import WindowState


class ScribeError(Exception):
    """Base class of every error this service raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        # Seconds after which trying again may succeed (busy or still loading); None: no advice.
        self.retry_after = retry_after


class InvalidRequest(ScribeError):
    """A request parameter is missing or has a value this service cannot honour."""


class InvalidAudio(ScribeError):
    """The upload is empty, corrupt, or not audio at all."""

    def __init__(self, message: str, *, code: str = "invalid_audio") -> None:
        super().__init__(message, param="file", code=code)


class FileTooLarge(ScribeError):
    """The upload is larger than the configured limit."""

    def __init__(self, limit_bytes: int) -> None:
        mb = limit_bytes / (1024 * 1024)
        super().__init__(
            f"The uploaded file is larger than this server's limit of {mb:g} MB "
            "(SCRIBE_MAX_UPLOAD_MB).",
            param="file",
            code="file_too_large",
        )
        self.limit_bytes = limit_bytes


class ConfigurationError(ScribeError):
    """A setting or a file it names is invalid; the service cannot start with it."""


class ModelUnavailable(ScribeError):
    """A model cannot be loaded: missing weights, no network, missing package or device."""


class ResourceExhausted(ScribeError):
    """The engine ran out of a resource (GPU memory) for this job; a smaller or later job may work."""


class UnknownModel(InvalidRequest):
    """The request names a model this server does not serve."""


class NotReady(ScribeError):
    """The models are still loading."""

    def __init__(self, message: str, *, code: str = "not_ready", retry_after: float = 10) -> None:
        super().__init__(message, code=code, retry_after=retry_after)


class Cancelled(ScribeError):
    """The work was cancelled before it finished."""


class StorageUnavailable(ScribeError):
    """The database (or the rate-limit store) cannot be reached; a later request may work."""

    def __init__(
        self, message: str, *, code: str = "storage_unavailable", retry_after: float = 5
    ) -> None:
        super().__init__(message, code=code, retry_after=retry_after)


class Unauthenticated(ScribeError):
    """The request carries no API key, or one this server does not know (or has revoked)."""

    def __init__(self, message: str, *, code: str = "invalid_api_key") -> None:
        super().__init__(message, code=code)


class PermissionDenied(ScribeError):
    """The caller's key is valid but its scope does not allow this."""

    def __init__(self, message: str, *, code: str = "insufficient_scope") -> None:
        super().__init__(message, code=code)


class NotFound(ScribeError):
    """The thing a request names (a model, a job) does not exist, or is not the caller's."""


class RateLimited(ScribeError):
    """A per-key limit is reached; the client may retry after ``retry_after`` seconds.

    ``kind`` names the limit: ``requests`` (per minute), ``audio_seconds`` (per hour) or
    ``concurrent_requests``.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        kind: str = "requests",
        window: WindowState | None = None,
    ) -> None:
        super().__init__(
            message, code="rate_limit_exceeded", retry_after=max(1, math.ceil(retry_after))
        )
        self.kind = kind
        self.window = window


class QueueFull(ScribeError):
    """The job queue holds as many jobs as it may; the client should try again later."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, code="queue_full", retry_after=max(1, math.ceil(retry_after)))


class ShuttingDown(ScribeError):
    """The process is stopping (graceful shutdown): it takes no new work, and work it could not
    finish in time is handed back; the client should try again (another node, or after the
    restart)."""

    RETRY_AFTER = 10.0

    def __init__(
        self,
        message: str = "The server is shutting down; try again in a few seconds.",
        *,
        code: str = "server_shutting_down",
        retry_after: float = RETRY_AFTER,
    ) -> None:
        super().__init__(message, code=code, retry_after=retry_after)


class Conflict(ScribeError):
    """The thing exists but is not in a state that allows this (a job's result before it is
    completed, cancelling a finished job)."""
