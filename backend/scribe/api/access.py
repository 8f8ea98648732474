"""AccessGuard: authentication, rate limits and usage metering of every ``/v1/*`` request.

A pure ASGI middleware, so that a request is refused (401, 429) before its body is read. An
admitted request holds one of its key's concurrency slots until its response has been sent
(streams included) or the client has gone; its usage is recorded then.
"""

from __future__ import annotations

import logging
import math

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scribe.domain.errors import RateLimited, ScribeError
from scribe.domain.limits import WindowState
from scribe.use_cases.keys import ApiKeys
from scribe.use_cases.usage import Admission, Metering

from .errors import response_for

log = logging.getLogger(__name__)

API_PREFIX = "/v1/"
# Requests under these paths carry audio and draw on the hourly audio budget.
AUDIO_PREFIX = "/v1/audio/"


def guarded(path: str) -> bool:
    return path.startswith(API_PREFIX) or path == "/v1"


class AccessGuard:
    def __init__(self, app: ASGIApp, keys: ApiKeys, metering: Metering) -> None:
        self.app = app
        self.keys = keys
        self.metering = metering

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # CORS preflights carry no credentials; the CORS middleware answers them.
        if scope["type"] != "http" or not guarded(scope["path"]) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        authorization = Headers(scope=scope).get("authorization")
        consumes_audio = (
            scope["method"] == "POST"
            and scope["path"].startswith(AUDIO_PREFIX)
            and not scope["path"].endswith("/cancel")
        )
        caller = None
        try:
            caller = await run_in_threadpool(self.keys.authenticate, authorization)
            admission = await run_in_threadpool(
                self.metering.admit, caller, consumes_audio=consumes_audio
            )
        except ScribeError as exc:
            if isinstance(exc, RateLimited):
                log.info("rate limited (%s): key %s", exc.kind, getattr(caller, "key_id", "?"))
            response = response_for(exc)
            if isinstance(exc, RateLimited) and exc.window is not None:
                response.headers.update(window_headers(exc.kind, exc.window))
            await response(scope, receive, send)
            return
        except Exception:
            log.exception("authentication or rate limiting failed")
            await response_for(ScribeError("The server failed unexpectedly; see its log."))(
                scope, receive, send
            )
            return

        scope.setdefault("state", {})["caller"] = caller
        status = 500

        async def send_with_limits(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).update(rate_limit_headers(admission))
            await send(message)

        failed = True
        try:
            with self.metering.running(admission):
                await self.app(scope, receive, send_with_limits)
            failed = status >= 400
        finally:
            # Shielded: a cancelled request still gives its slot back and is recorded.
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self.metering.finish, admission, failed=failed)


def rate_limit_headers(admission: Admission) -> dict[str, str]:
    """OpenAI's ``x-ratelimit-*`` headers for the limits this request was counted against."""
    headers: dict[str, str] = {}
    if admission.requests is not None:
        headers.update(window_headers("requests", admission.requests))
    if admission.audio is not None:
        headers.update(window_headers("audio_seconds", admission.audio))
    return headers


def window_headers(kind: str, state: WindowState) -> dict[str, str]:
    if kind not in ("requests", "audio_seconds"):
        return {}
    name = kind.replace("_", "-")
    return {
        f"x-ratelimit-limit-{name}": str(state.limit),
        f"x-ratelimit-remaining-{name}": str(max(0, state.remaining)),
        f"x-ratelimit-reset-{name}": duration(state.reset_after),
    }


def duration(seconds: float) -> str:
    """OpenAI's reset format: ``850ms``, ``12s``, ``6m0s``, ``1h2m3s``."""
    if seconds < 1:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
