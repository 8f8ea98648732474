"""The id of the request being served: on every response (``x-request-id``) and every log line.

``RequestContext`` (pure ASGI middleware) takes the client's ``x-request-id`` when it is a sane
token, or makes one, keeps it in the ``REQUEST_ID`` context variable for the duration of the
request (worker threads started with ``contextvars.copy_context()`` inherit it) and adds it to
the response. ``scribe.logging_setup`` puts it on every log line, text or JSON (``RequestIdFilter``
does it alone, for handlers set up elsewhere).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scribe.log_context import REQUEST_ID

HEADER = "x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


def current_request_id() -> str | None:
    """The id of the request this code runs for, if any."""
    return REQUEST_ID.get()


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        return True


class RequestContext:
    """Gives every HTTP request an id, and every response the ``x-request-id`` header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(HEADER.encode(), b"").decode("latin-1")
        request_id = given if _SANE.match(given) else new_request_id()
        # request.state.request_id, for handlers that answer outside this middleware.
        scope.setdefault("state", {})["request_id"] = request_id
        # Not reset afterwards: each request runs in its own task (its own context), and the
        # error handler outside this middleware still needs it for a 500's log line.
        REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if HEADER not in headers:
                    headers.append(HEADER, request_id)
            await send(message)

        await self.app(scope, receive, send_with_id)


def logging_config(level: str, log_format: str = "text") -> dict[str, Any]:
    """The logging settings of every ``scribe`` command (kept here for older imports; see
    ``scribe.logging_setup``)."""
    from scribe.logging_setup import logging_config as config

    return config(level, log_format)
