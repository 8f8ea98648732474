"""Domain errors. Adapters translate library errors into these; only the API layer maps them to HTTP."""

from __future__ import annotations


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


class NotFound(ScribeError):
    """The thing a request names (a model, a job) does not exist."""


class NotReady(ScribeError):
    """The models are still loading."""

    def __init__(self, message: str, *, code: str = "not_ready", retry_after: float = 10) -> None:
        super().__init__(message, code=code, retry_after=retry_after)


class Cancelled(ScribeError):
    """The work was cancelled before it finished."""
