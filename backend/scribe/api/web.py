"""Serve the built web app (``scribe/web``: index.html and Vite's content-hashed ``assets/``).

``/`` answers index.html with ``Cache-Control: no-cache`` so a new release is picked up at once
(and with the page's content security policy, its inline script allowed by hash);
``/assets/*`` file names carry a hash of their content, so browsers may keep them for a year.
The bundle is built from ``frontend/`` (``npm run build``) and ships inside the Python package.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.staticfiles import PathLike
from starlette.types import Scope

from .security_headers import page_headers

INDEX_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"

_MISSING = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Scribe</title>
<p>The web app is not built. Run <code>npm ci &amp;&amp; npm run build</code> in
<code>frontend/</code>; the API itself works: see <a href="/docs">/docs</a>.</p></html>"""


class _ImmutableAssets(StaticFiles):
    """Static files whose names are content hashes: cached for a year, never revalidated."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = ASSET_CACHE
        return response


def web_root() -> Path:
    """The folder the built app lives in, inside the installed package."""
    return Path(__file__).resolve().parent.parent / "web"


def mount_web_app(app: FastAPI, root: Path | None = None) -> None:
    """Serve the web app at ``/`` (index.html, read once) and its hashed files at ``/assets``."""
    root = root or web_root()
    index = root / "index.html"
    page = index.read_text(encoding="utf-8") if index.is_file() else _MISSING
    headers = {**page_headers(page), "Cache-Control": INDEX_CACHE}

    @app.api_route(
        "/", methods=["GET", "HEAD"], include_in_schema=False, response_class=HTMLResponse
    )
    async def web_app() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    assets = root / "assets"
    if assets.is_dir():
        app.mount("/assets", _ImmutableAssets(directory=assets), name="web-assets")
