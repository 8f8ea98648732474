"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
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
    summary="Readiness: every model is loaded (an API node: its broker and database answer)",
    responses={503: {"description": "Models still loading, loading failed, or a service down"}},
)
async def ready(services: ServicesDep) -> JSONResponse:
    warm_up = services.warm_up
    checks = await run_in_threadpool(_check_dependencies, services)
    down = [name for name, state in checks.items() if state != "ok"]
    models = services.models()
    asr = [m for m in models if m.role == "asr"]
    diarizer = next((m for m in models if m.role == "diarizer"), None)
    body: dict[str, Any] = {
        "status": "ready" if warm_up.ready else ("failed" if warm_up.error else "loading"),
        "models": [e.name for e in services.engines.all],
        "diarizer": services.diarizer.name if services.diarizer else None,
        # Where each model runs (an API node of the scaled shape loads none: `loaded` false).
        "engines": [m.as_dict() | {"loaded": m.loaded} for m in asr],
        "diarization": None
        if diarizer is None
        else diarizer.as_dict() | {"loaded": diarizer.loaded},
    }
    shutdown = services.shutdown
    if shutdown is not None and shutdown.started:
        # Load balancers stop sending here; running jobs are finishing or being handed back.
        body["status"] = "stopping"
        return JSONResponse(body, status_code=503, headers=retry_after_headers(503, 10.0))
    if services.scale is not None:
        body["role"] = "api" if checks else "worker"
    if checks:
        body["dependencies"] = checks
        body["workers"] = await run_in_threadpool(_workers, services)
        if down and warm_up.ready:
            body["status"] = "unavailable"
            body["error"] = f"Not reachable: {', '.join(down)}."
            return JSONResponse(body, status_code=503, headers=retry_after_headers(503, 5.0))
    if warm_up.error is not None:
        body["error"] = warm_up.error.message
    if warm_up.seconds is not None:
        body["load_seconds"] = round(warm_up.seconds, 2)
    if warm_up.ready:
        return JSONResponse(body)
    retry = None if warm_up.error is not None else warm_up.retry_after
    return JSONResponse(body, status_code=503, headers=retry_after_headers(503, retry))


def _check_dependencies(services: ServicesDep) -> dict[str, str]:
    states: dict[str, str] = {}
    for name, check in services.dependencies.items():
        try:
            check()
            states[name] = "ok"
        except Exception as exc:  # any failure to answer means "down", with its reason
            states[name] = f"down: {type(exc).__name__}"
    return states


def _workers(services: ServicesDep) -> list[dict[str, Any]]:
    if services.workers is None:
        return []
    try:
        found = services.workers.workers()
    except Exception:
        return []
    return [
        {"name": w.name, "engines": list(w.engines), "concurrency": w.concurrency} for w in found
    ]
