"""Refuse request bodies above the configured size before they are spooled whole."""

from __future__ import annotations

import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scribe.domain.errors import FileTooLarge

from .errors import error_response, status_of


class UploadLimit:
    """Pure ASGI middleware: 413 at once when Content-Length is too big, and while streaming
    a body without one (chunked uploads) as soon as the running count passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, slack_bytes: int = 64 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Multipart framing and the small form fields come on top of the file itself.
        self.limit = max_bytes + slack_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return

        received = 0
        exceeded = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise FileTooLarge(self.max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            # Body parsers wrap our exception in their own 400; once over the limit, the app's
            # own response is dropped and the 413 below goes out instead.
            if not exceeded:
                await send(message)

        with contextlib.suppress(FileTooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if exceeded:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = FileTooLarge(self.max_bytes)
        status, type_ = status_of(error)
        response = error_response(status, error.message, type_, error.param, error.code)
        response.headers["connection"] = "close"
        await response(scope, receive, send)
