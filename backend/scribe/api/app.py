"""create_app: the FastAPI application (OpenAI-compatible routes, health, the web app)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from scribe import __version__
from scribe.bootstrap import Services, build_services, prepare
from scribe.config import Settings
from scribe.use_cases.warm_up import WarmUp

from .access import AccessGuard
from .auth import get_caller
from .cors import install_cors
from .errors import install_error_handlers
from .metrics import RequestMetrics
from .metrics import router as metrics_router
from .request_checks import HeaderLimit, known_form_fields
from .request_context import RequestContext
from .routes import health, jobs, models, text_rules, transcriptions, usage
from .security_headers import SecurityHeaders
from .upload_limit import UploadLimit
from .web import mount_web_app

# Every /v1 route: a caller (authenticated by AccessGuard) and only the form fields it declares.
V1 = [Depends(get_caller), Depends(known_form_fields)]

_DESCRIPTION = """
Self-hosted, OpenAI-compatible speech-to-text with speaker diarization.

Point the official `openai` SDK at this server (`base_url="http://HOST:20301/v1"`, and an API key
from `scribe keys create`, or any key while the server needs none) and call
`client.audio.transcriptions.create(...)` or `client.audio.translations.create(...)`. Every
response format works: `json`, `verbose_json`, `diarized_json`, `text`, `srt`, `vtt`, and
`stream=true` server-sent events. Long recordings go through `/v1/audio/jobs`: submit, follow
progress, fetch the result in any format, cancel. Every response carries `x-request-id`.
"""


def create_app(
    services: Services | None = None,
    *,
    on_loaded: Callable[[WarmUp], None] | None = None,
) -> FastAPI:
    """The application. Without ``services`` it builds them from the environment (SCRIBE_*).

    Models load in a background thread at startup: /health answers at once and /health/ready
    turns 200 when they are loaded. ``on_loaded`` is called when loading ends (well or not).
    """
    services = services or build_services(Settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(prepare, services)  # database schema; how auth works
        if not services.warm_up.finished:
            services.warm_up.start(on_loaded)
        await run_in_threadpool(services.runner.start)  # queued and interrupted jobs run again
        try:
            yield
        finally:
            shutdown = services.shutdown
            if shutdown is not None and shutdown.started:
                # A graceful shutdown handed back what still ran; an engine call still busy
                # is not waited for (its thread is a daemon): a moment, then the process exits.
                await run_in_threadpool(shutdown.wait, max(0.0, shutdown.seconds_left() - 1.0))
                await run_in_threadpool(services.runner.stop, 0.5)
            else:
                await run_in_threadpool(services.runner.stop)

    app = FastAPI(
        title="Scribe",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    app.add_middleware(UploadLimit, max_bytes=services.settings.max_upload_bytes)
    app.add_middleware(AccessGuard, keys=services.keys, metering=services.metering)
    install_cors(app, services.settings.cors_origin_list)
    app.add_middleware(HeaderLimit)
    app.add_middleware(SecurityHeaders)  # every response carries them
    if services.metrics is not None:
        app.add_middleware(RequestMetrics, metrics=services.metrics)
    app.add_middleware(RequestContext)  # added last: outermost, so every answer carries the id
    install_error_handlers(app)
    app.include_router(transcriptions.router, dependencies=V1)
    app.include_router(jobs.router, dependencies=V1)
    app.include_router(models.router, dependencies=V1)
    app.include_router(usage.router, dependencies=V1)
    app.include_router(text_rules.router, dependencies=V1)
    app.include_router(health.router)
    app.include_router(metrics_router)

    mount_web_app(app)

    return app
