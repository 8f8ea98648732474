"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from scribe import __version__

from ..deps import ServicesDep
from ..errors import retry_after_headers

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
@router.get("/health/live", include_in_schema=False)
async def live() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/health/ready",
    summary="Readiness: every model is loaded",
    responses={503: {"description": "Models still loading, or loading failed"}},
)
async def ready(services: ServicesDep) -> JSONResponse:
    warm_up = services.warm_up
    body: dict[str, Any] = {
        "status": "ready" if warm_up.ready else ("failed" if warm_up.error else "loading"),
        "models": [e.name for e in services.engines.all],
        "diarizer": services.diarizer.name if services.diarizer else None,
    }
    if warm_up.error is not None:
        body["error"] = warm_up.error.message
    if warm_up.seconds is not None:
        body["load_seconds"] = round(warm_up.seconds, 2)
    if warm_up.ready:
        return JSONResponse(body)
    retry = None if warm_up.error is not None else warm_up.retry_after
    return JSONResponse(body, status_code=503, headers=retry_after_headers(503, retry))
