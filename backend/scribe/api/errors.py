"""The only place domain errors become HTTP responses, in OpenAI's error shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from scribe.domain.errors import (
    Cancelled,
    ConfigurationError,
    FileTooLarge,
    InvalidAudio,
    InvalidRequest,
    ModelUnavailable,
    NotFound,
    NotReady,
    PermissionDenied,
    RateLimited,
    ResourceExhausted,
    ScribeError,
    StorageUnavailable,
    Unauthenticated,
)

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[ScribeError], int, str]] = [
    (FileTooLarge, 413, "invalid_request_error"),
    (InvalidAudio, 400, "invalid_request_error"),
    (InvalidRequest, 400, "invalid_request_error"),
    (NotReady, 503, "service_unavailable"),
    (ModelUnavailable, 503, "service_unavailable"),
    (ConfigurationError, 503, "service_unavailable"),
    (ResourceExhausted, 503, "service_unavailable"),
    (StorageUnavailable, 503, "service_unavailable"),
    (Cancelled, 499, "cancelled"),
    (Unauthenticated, 401, "invalid_request_error"),
    (PermissionDenied, 403, "invalid_request_error"),
    (NotFound, 404, "invalid_request_error"),
    (RateLimited, 429, "requests"),
]
# Seconds a client should wait before retrying a 503 (models loading, resources exhausted).
RETRY_AFTER_UNAVAILABLE = 5


def error_response(
    status: int, message: str, type_: str, param: str | None = None, code: str | None = None
) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def status_of(error: ScribeError) -> tuple[int, str]:
    if isinstance(error, RateLimited):
        # OpenAI's 429 types name the limit ("requests", "tokens"); here also "audio_seconds".
        return 429, "audio_seconds" if error.kind == "audio_seconds" else "requests"
    for cls, status, type_ in _STATUS:
        if isinstance(error, cls):
            return status, type_
    return 500, "server_error"


def error_headers(error: ScribeError, status: int) -> dict[str, str]:
    """Headers an error response carries: every 429 and 503 says when to retry."""
    if isinstance(error, RateLimited):
        return {"Retry-After": str(error.retry_after)}
    if status == 503:
        return {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}
    if status == 401:
        return {"WWW-Authenticate": 'Bearer realm="scribe"'}
    return {}


def response_for(error: ScribeError) -> JSONResponse:
    """The HTTP response for a domain error (for middleware, which runs outside the handlers)."""
    status, type_ = status_of(error)
    response = error_response(status, error.message, type_, error.param, error.code)
    response.headers.update(error_headers(error, status))
    return response


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
        if status_of(exc)[0] >= 500:
            log.error("%s: %s", type(exc).__name__, exc.message)
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
        type_ = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return error_response(exc.status_code, str(exc.detail), type_)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "The server failed unexpectedly; see its log.", "server_error")
