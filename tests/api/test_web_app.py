"""The built web app: served at / (no-cache) with hashed assets cached for a year; and the
read-only list of text rule sets the app offers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from scribe.adapters.nlp.text_rules_file import TextRulesProcessor
from scribe.api.app import create_app
from scribe.api.security_headers import inline_script_hashes
from scribe.api.web import ASSET_CACHE, mount_web_app, web_root
from scribe.domain.text_rules import RemoveFillers, RuleSet
from tests.fakes import fake_services


def test_index_is_never_cached_and_assets_are_immutable(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["content-type"].startswith("text/html")
    # The page's inline theme script is allowed by its hash, nothing else inline.
    policy = page.headers["content-security-policy"]
    assert inline_script_hashes(page.text) and all(
        h in policy for h in inline_script_hashes(page.text)
    )
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
    assert any(a.endswith(".js") for a in assets), "index.html loads no script from /assets"
    for path in assets:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_the_bundle_ships_in_the_package() -> None:
    root = web_root()
    assert (root / "index.html").is_file()
    hashed = [p.name for p in (root / "assets").iterdir()]
    assert hashed and all(re.search(r"-[\w-]{8,}\.\w+$", n) for n in hashed), hashed


def test_missing_asset_is_an_openai_shaped_404(client: TestClient) -> None:
    response = client.get("/assets/nothing-12345678.js")
    assert response.status_code == 404
    assert "error" in response.json()


def test_custom_root_and_missing_build(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app-0123abcd.js").write_text("console.log(1)")
    (tmp_path / "index.html").write_text('<html><script src="/assets/app-0123abcd.js"></script>')
    app = FastAPI()
    mount_web_app(app, tmp_path)
    with TestClient(app) as c:
        assert c.get("/assets/app-0123abcd.js").headers["cache-control"] == ASSET_CACHE
        assert "app-0123abcd" in c.get("/").text
    empty = FastAPI()
    mount_web_app(empty, tmp_path / "nowhere")
    with TestClient(empty) as c:
        assert "not built" in c.get("/").text


def test_text_rule_sets_are_listed(client: TestClient) -> None:
    assert client.get("/v1/audio/text_rules").json() == {"object": "list", "data": []}
    services: Any = fake_services(
        post_processors=[
            TextRulesProcessor(
                {"clean": RuleSet("clean", (RemoveFillers(),)), "house": RuleSet("house", ())}
            )
        ]
    )
    services.warm_up.run()
    with TestClient(create_app(services)) as c:
        body = c.get("/v1/audio/text_rules").json()
    assert [r["id"] for r in body["data"]] == ["clean", "house"]
    assert body["data"][0]["object"] == "text_rule_set"
