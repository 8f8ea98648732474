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
    NotReady,
    ResourceExhausted,
    ScribeError,
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
    (Cancelled, 499, "cancelled"),
]


def error_response(
    status: int, message: str, type_: str, param: str | None = None, code: str | None = None
) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def status_of(error: ScribeError) -> tuple[int, str]:
    for cls, status, type_ in _STATUS:
        if isinstance(error, cls):
            return status, type_
    return 500, "server_error"


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
        status, type_ = status_of(exc)
        if status >= 500:
            log.error("%s: %s", type(exc).__name__, exc.message)
        return error_response(status, exc.message, type_, exc.param, exc.code)

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
