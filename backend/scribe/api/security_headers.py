"""Security headers: a content security policy for the web page, ``nosniff``, no framing.

The policy fits a Vite-built React app with Tailwind: scripts, styles, fonts and API calls from
the service's own origin only; images and media also from ``blob:`` and ``data:`` URLs (local
previews of the audio a user picks). Inline ``<script>`` blocks of a page are allowed by their
SHA-256 only (``page_headers(html)``); inline styles are allowed (style attributes set by
components). The static-file module of the web app uses ``page_headers`` for its HTML.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "worker-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Every response: no MIME sniffing, no framing, no referrer leaking to other sites.
BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

# FastAPI's interactive docs load Swagger UI from a CDN with an inline script: no CSP there.
_NO_CSP_PATHS = ("/docs", "/docs/oauth2-redirect")

_INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc\s*=)[^>]*>(?P<body>.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions (``'sha256-...'``) for the inline scripts of a page."""
    hashes = []
    for match in _INLINE_SCRIPT.finditer(html):
        digest = hashlib.sha256(match["body"].encode("utf-8")).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return list(dict.fromkeys(hashes))


def content_security_policy(html: str | None = None) -> str:
    directives = dict(_DIRECTIVES)
    if html:
        extra = inline_script_hashes(html)
        if extra:
            directives["script-src"] = " ".join([directives["script-src"], *extra])
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def page_headers(html: str | None = None) -> dict[str, str]:
    """Headers for an HTML page of the web app (its inline scripts allowed by hash)."""
    return {**BASE_HEADERS, "Content-Security-Policy": content_security_policy(html)}


class SecurityHeaders:
    """Adds ``BASE_HEADERS`` to every response, and the default policy to those without one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.policy = content_security_policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with_csp = scope["path"] not in _NO_CSP_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in BASE_HEADERS.items():
                    headers.setdefault(name, value)
                if with_csp:
                    headers.setdefault("Content-Security-Policy", self.policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)
