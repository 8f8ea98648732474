"""create_app: the FastAPI application (OpenAI-compatible routes, health, the web page)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from scribe import __version__
from scribe.bootstrap import Services, build_services, prepare
from scribe.config import Settings
from scribe.use_cases.warm_up import WarmUp

from .access import AccessGuard
from .auth import get_caller
from .cors import install_cors
from .errors import install_error_handlers
from .request_checks import HeaderLimit, known_form_fields
from .routes import health, models, transcriptions, usage
from .security_headers import SecurityHeaders, page_headers
from .upload_limit import UploadLimit

# Every /v1 route: a caller (authenticated by AccessGuard) and only the form fields it declares.
V1 = [Depends(get_caller), Depends(known_form_fields)]

_DESCRIPTION = """
Self-hosted, OpenAI-compatible speech-to-text with speaker diarization.

Point the official `openai` SDK at this server (`base_url="http://HOST:20301/v1"`, and an API key
from `scribe keys create`, or any key while the server needs none) and call
`client.audio.transcriptions.create(...)`. Every response format works: `json`, `verbose_json`,
`diarized_json`, `text`, `srt`, `vtt`, and `stream=true` server-sent events.
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
        yield

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
    app.add_middleware(SecurityHeaders)  # outermost: every response carries them
    install_error_handlers(app)
    app.include_router(transcriptions.router, dependencies=V1)
    app.include_router(models.router, dependencies=V1)
    app.include_router(usage.router, dependencies=V1)
    app.include_router(health.router)

    page = resources.files("scribe.web").joinpath("index.html").read_text(encoding="utf-8")
    headers = page_headers(page)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    return app
