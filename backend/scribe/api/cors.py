"""Which web pages may call the API: the service's own origin, and ``SCRIBE_CORS_ORIGINS``.

Browsers send ``Origin`` with cross-site requests. CORS headers let allowed origins read
responses; ``OriginGuard`` also refuses (403) ``/v1/*`` requests that a page of any other origin
sends, so that a web site cannot make a visitor's browser use a server it can reach (a local one
with authentication off, say) even without reading the answer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from scribe.domain.errors import PermissionDenied

from .access import guarded
from .errors import response_for

EXPOSED_HEADERS = [
    "Retry-After",
    "x-request-id",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-audio-seconds",
    "x-ratelimit-remaining-audio-seconds",
    "x-ratelimit-reset-audio-seconds",
]


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """CORS for the configured origins (none: only same-origin pages, which need no CORS),
    and the origin check on ``/v1/*``."""
    app.add_middleware(OriginGuard, origins=origins)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,  # bearer keys, no cookies
            max_age=600,
        )


def same_origin(origin: str, host: str | None) -> bool:
    """Whether ``origin`` (scheme://host[:port]) names the host the request was sent to."""
    if not host:
        return False
    return urlsplit(origin).netloc.lower() == host.lower()


class OriginGuard:
    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.origins = {o.lower() for o in origins}

    def allowed(self, origin: str, host: str | None) -> bool:
        return "*" in self.origins or origin.lower() in self.origins or same_origin(origin, host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and guarded(scope["path"]):
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not self.allowed(origin, headers.get("host")):
                error = PermissionDenied(
                    f"Requests from web pages of {origin[:100]} are not allowed by this server "
                    "(its operator can add the origin to SCRIBE_CORS_ORIGINS).",
                    code="origin_not_allowed",
                )
                await response_for(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
