"""create_app: the FastAPI application (OpenAI-compatible routes, health, the web page)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from scribe import __version__
from scribe.bootstrap import Services, build_services
from scribe.config import Settings
from scribe.use_cases.warm_up import WarmUp

from .errors import install_error_handlers
from .request_context import RequestContext
from .routes import health, models, transcriptions
from .upload_limit import UploadLimit

_DESCRIPTION = """
Self-hosted, OpenAI-compatible speech-to-text with speaker diarization.

Point the official `openai` SDK at this server (`base_url="http://HOST:20301/v1"`, any API key)
and call `client.audio.transcriptions.create(...)` or `client.audio.translations.create(...)`.
Every response format works: `json`, `verbose_json`, `diarized_json`, `text`, `srt`, `vtt`, and
`stream=true` server-sent events. Every response carries `x-request-id`.
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
    app.add_middleware(RequestContext)  # added last: outermost, so every answer carries the id
    install_error_handlers(app)
    app.include_router(transcriptions.router)
    app.include_router(models.router)
    app.include_router(health.router)

    page = resources.files("scribe.web").joinpath("index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    return app
