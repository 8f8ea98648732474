"""The only place domain errors become HTTP responses, in OpenAI's error shape."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from scribe.domain.errors import (
    Cancelled,
    ConfigurationError,
    Conflict,
    FileTooLarge,
    InvalidAudio,
    InvalidRequest,
    ModelUnavailable,
    NotFound,
    NotReady,
    PermissionDenied,
    QueueFull,
    RateLimited,
    ResourceExhausted,
    ScribeError,
    ShuttingDown,
    StorageUnavailable,
    Unauthenticated,
)

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[ScribeError], int, str]] = [
    (FileTooLarge, 413, "invalid_request_error"),
    (InvalidAudio, 400, "invalid_request_error"),
    (InvalidRequest, 400, "invalid_request_error"),
    (NotFound, 404, "invalid_request_error"),
    (Conflict, 409, "invalid_request_error"),
    (QueueFull, 503, "service_unavailable"),
    (NotReady, 503, "service_unavailable"),
    (ModelUnavailable, 503, "service_unavailable"),
    (ConfigurationError, 503, "service_unavailable"),
    (ResourceExhausted, 503, "service_unavailable"),
    (StorageUnavailable, 503, "service_unavailable"),
    (ShuttingDown, 503, "service_unavailable"),
    (Cancelled, 499, "cancelled"),
    (Unauthenticated, 401, "invalid_request_error"),
    (PermissionDenied, 403, "invalid_request_error"),
]

# Retry-After (seconds) on a 503 or 429 whose error gives no better estimate.
DEFAULT_RETRY_AFTER = {503: 30.0, 429: 1.0}


def retry_after_headers(status: int, seconds: float | None = None) -> dict[str, str]:
    """``Retry-After`` for a 503 or 429 (every one carries it); nothing for other statuses."""
    if status not in DEFAULT_RETRY_AFTER:
        return {}
    wait = DEFAULT_RETRY_AFTER[status] if seconds is None else seconds
    return {"Retry-After": str(max(1, math.ceil(wait)))}


def error_response(
    status: int,
    message: str,
    type_: str,
    param: str | None = None,
    code: str | None = None,
    *,
    retry_after: float | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    all_headers = {**(headers or {}), **retry_after_headers(status, retry_after)}
    return JSONResponse(body, status_code=status, headers=all_headers)


def status_of(error: ScribeError) -> tuple[int, str]:
    if isinstance(error, RateLimited):
        # OpenAI's 429 types name the limit ("requests", "tokens"); here also "audio_seconds".
        return 429, "audio_seconds" if error.kind == "audio_seconds" else "requests"
    for cls, status, type_ in _STATUS:
        if isinstance(error, cls):
            return status, type_
    return 500, "server_error"


def response_for(error: ScribeError) -> JSONResponse:
    """The HTTP response for a domain error (also for middleware, which runs outside the
    handlers): OpenAI's shape, ``Retry-After`` on every 429 and 503, the auth scheme on a 401."""
    status, type_ = status_of(error)
    headers = {"WWW-Authenticate": 'Bearer realm="scribe"'} if status == 401 else None
    return error_response(
        status,
        error.message,
        type_,
        error.param,
        error.code,
        retry_after=error.retry_after,
        headers=headers,
    )


def error_payload(error: ScribeError) -> dict[str, object]:
    """The error object alone, for an ``error`` event in a stream."""
    _, type_ = status_of(error)
    return {"message": error.message, "type": type_, "param": error.param, "code": error.code}


def _loc_param(loc: tuple[object, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return parts[0] if parts else None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ScribeError)
    async def scribe_error(_: Request, exc: ScribeError) -> JSONResponse:
        status, _type = status_of(exc)
        if isinstance(exc, ShuttingDown):
            log.info("refused: %s", exc.message)  # expected while stopping, not a failure
        elif status >= 500:
            log.error("%s: %s", type(exc).__name__, exc.message)
        elif isinstance(exc, Cancelled):
            log.info("cancelled: %s", exc.message)
        return response_for(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        param = _loc_param(tuple(first.get("loc", ())))
        detail = first.get("msg", "Invalid request.")
        if first.get("type") == "missing":
            message = f"Missing required parameter '{param}'."
        else:
            message = f"Invalid value for '{param}': {detail}."
        return error_response(400, message, "invalid_request_error", param, "invalid_value")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own 404 and 405 (with its Allow header) come here too.
        type_ = "invalid_request_error" if exc.status_code < 500 else "server_error"
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return error_response(
            exc.status_code, str(exc.detail), type_, code=code, headers=dict(exc.headers or {})
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Answered outside the request-id middleware: the id is added here.
        log.exception("unexpected error")
        request_id = getattr(request.state, "request_id", None)
        return error_response(
            500,
            "The server failed unexpectedly; see its log.",
            "server_error",
            headers={"x-request-id": request_id} if request_id else None,
        )
