"""GET /metrics (Prometheus) and the middleware that counts every HTTP request.

Requests are labelled by method, route template (``/v1/audio/jobs/{job_id}``, never the raw
path: no ids in labels; ``unmatched`` for paths no route serves) and status.

Who may scrape: anyone while the server needs no API key (loopback only, or SCRIBE_AUTH=disabled)
or with SCRIBE_METRICS_PUBLIC=true; otherwise an admin key (``Authorization: Bearer KEY``, what
Prometheus sends with ``authorization: {credentials: KEY}``). Metrics name no key and no job,
but they tell the load and the models: not something to show the internet.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scribe.adapters.metrics.prometheus_metrics import ServiceMetrics
from scribe.domain.errors import PermissionDenied

from .deps import ServicesDep

router = APIRouter(tags=["health"])
UNMATCHED = "unmatched"


class RequestMetrics:
    """Counts each HTTP request and times it to the end of its response (pure ASGI)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what a request that raised through every handler ends as

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            self.metrics.observe_request(
                scope["method"], route_template(scope), status, time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    """The path template of the route that served (or would have served) the request."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    # Refused before routing (a 401 from the access guard, a 413): match it now.
    app = scope.get("app")
    routes: list[BaseRoute] = list(getattr(getattr(app, "router", None), "routes", []))
    for candidate in routes:
        try:
            match, _ = candidate.matches(scope)
        except Exception:  # a route that cannot judge this scope does not serve it
            continue
        if match is Match.FULL:
            found = getattr(candidate, "path", None)
            return found if isinstance(found, str) and found else UNMATCHED
    return UNMATCHED


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Requests, jobs by state, job durations, queue depth, audio processed, models "
    "loaded and GPU memory, in Prometheus' text format. Needs an admin key while API keys are "
    "required, unless SCRIBE_METRICS_PUBLIC=true.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request, services: ServicesDep) -> Response:
    if not services.settings.metrics_public and services.keys.required():
        caller = await run_in_threadpool(
            services.keys.authenticate, request.headers.get("authorization")
        )
        if not caller.is_admin:
            raise PermissionDenied(
                "GET /metrics needs an admin key (scribe keys create --scope admin)."
            )
    assert services.metrics is not None
    body, content_type = await run_in_threadpool(services.metrics.render)
    return Response(body, media_type=content_type)
