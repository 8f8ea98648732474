"""Keys, limits, usage, CORS and headers, through the real app and composition root."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scribe.api.app import create_app
from scribe.domain.caller import Scope
from scribe.domain.errors import StorageUnavailable
from scribe.domain.keys import ApiKey
from scribe.domain.limits import KeyLimits
from tests.fakes import FakeAsr, FakeKeyStore, FakeUsageMeter, fake_services, wav_bytes

URL = "/v1/audio/transcriptions"


def transcribe(client: TestClient, key: str | None = None, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    headers.update(kw.pop("headers", {}))
    files = {"file": ("clip.wav", kw.pop("content", wav_bytes(4)), "audio/wav")}
    return client.post(URL, files=files, headers=headers, **kw)


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return dict(error)


def app_with(**settings: Any) -> tuple[TestClient, Any]:
    asr = settings.pop("asr", None)
    services: Any = fake_services(asr, **settings)
    services.warm_up.run()
    return TestClient(create_app(services)), services


def test_without_keys_on_loopback_no_key_is_needed(client: TestClient) -> None:
    assert transcribe(client).status_code == 200
    assert transcribe(client, "sk-anything").status_code == 200  # the SDK always sends one


def test_once_a_key_exists_every_v1_route_needs_it() -> None:
    client, services = app_with()
    issued = services.keys.create("laptop")
    with client:
        for response in (transcribe(client), client.get("/v1/models")):
            error = error_of(response, 401)
            assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
            assert response.headers["www-authenticate"].startswith("Bearer")
        error = error_of(transcribe(client, "sk-scribe-" + "A" * 43), 401)
        assert error["code"] == "invalid_api_key" and "Incorrect API key" in error["message"]
        assert transcribe(client, issued.secret).status_code == 200
        assert client.get(
            "/v1/models", headers={"Authorization": f"Bearer {issued.secret}"}
        ).is_success
        # The page, its docs and the health endpoints need no key.
        for path in ("/", "/health", "/health/ready", "/docs", "/openapi.json"):
            assert client.get(path).status_code == 200, path
        services.keys.revoke(issued.record.key_id)
        assert "revoked" in error_of(transcribe(client, issued.secret), 401)["message"]


def test_a_server_beyond_loopback_needs_a_key_even_before_one_exists() -> None:
    client, _ = app_with(host="0.0.0.0")
    with client:
        error_of(transcribe(client), 401)


def test_authentication_can_be_turned_off_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    client, services = app_with(auth="disabled", host="0.0.0.0")
    services.keys.create("laptop")
    with caplog.at_level(logging.WARNING), client:
        assert transcribe(client).status_code == 200
    assert "SCRIBE_AUTH=disabled" in caplog.text


def test_no_key_reaches_a_response_or_the_log(caplog: pytest.LogCaptureFixture) -> None:
    client, services = app_with()
    issued = services.keys.create("laptop")
    wrong = "sk-scribe-" + "B" * 43
    with caplog.at_level(logging.DEBUG), client:
        bodies = [
            transcribe(client, issued.secret).text,
            transcribe(client, wrong).text,
            transcribe(client, issued.secret, content=b"not audio").text,
            client.get("/v1/usage", headers={"Authorization": f"Bearer {issued.secret}"}).text,
        ]
    for secret in (issued.secret, wrong, issued.record.secret_hash):
        assert secret not in caplog.text
        assert all(secret not in body for body in bodies)
    assert "Traceback" not in caplog.text


def test_requests_per_minute_answer_429_with_openai_headers() -> None:
    client, services = app_with(rate_limit_requests_per_minute=2)
    key = services.keys.create("laptop").secret
    with client:
        first = transcribe(client, key)
        assert first.headers["x-ratelimit-limit-requests"] == "2"
        assert first.headers["x-ratelimit-remaining-requests"] == "1"
        assert first.headers["x-ratelimit-reset-requests"].endswith("s")
        assert transcribe(client, key).status_code == 200
        refused = transcribe(client, key)
        error = error_of(refused, 429)
        assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["x-ratelimit-remaining-requests"] == "0"
        # Another key has its own minute; a key's own limit wins over the default.
        other = services.keys.create("batch", limits=KeyLimits(requests_per_minute=10)).secret
        assert transcribe(client, other).headers["x-ratelimit-limit-requests"] == "10"


def test_audio_minutes_per_hour_are_charged_after_decoding() -> None:
    client, services = app_with()
    key = services.keys.create("laptop", limits=KeyLimits(audio_seconds_per_hour=6)).secret
    with client:
        first = transcribe(client, key)  # 4 s of audio
        assert first.status_code == 200
        assert first.headers["x-ratelimit-limit-audio-seconds"] == "6"
        assert first.headers["x-ratelimit-remaining-audio-seconds"] == "2"
        assert transcribe(client, key).status_code == 200  # 2 s left: admitted, charged 4
        refused = transcribe(client, key)
        error = error_of(refused, 429)
        assert (
            error["type"] == "audio_seconds" and "0.1 minutes of audio per hour" in error["message"]
        )
        assert int(refused.headers["retry-after"]) > 0
        assert refused.headers["x-ratelimit-remaining-audio-seconds"] == "0"
        # Requests without audio still work.
        assert client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).is_success


def test_concurrent_requests_per_key() -> None:
    slow = FakeAsr(delay=1.0)
    client, services = app_with(asr=slow, max_concurrent_jobs=2)
    key = services.keys.create("laptop", limits=KeyLimits(concurrent_requests=1)).secret
    with client:
        results: list[int] = []
        worker = threading.Thread(
            target=lambda: results.append(transcribe(client, key).status_code)
        )
        worker.start()
        deadline = time.monotonic() + 5
        while not slow.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        error = error_of(transcribe(client, key), 429)
        assert "concurrent" in error["message"]
        worker.join()
        assert results == [200]
        # The slot came back, and comes back after failures and streams too.
        assert transcribe(client, key, content=b"").status_code == 400
        with client.stream(
            "POST",
            URL,
            data={"stream": "true"},
            files={"file": ("a.wav", wav_bytes(4))},
            headers={"Authorization": f"Bearer {key}"},
        ) as stream:
            assert stream.status_code == 200
            list(stream.iter_lines())
        assert transcribe(client, key).status_code == 200


def test_usage_is_metered_per_key_and_readable_by_its_owner() -> None:
    meter = FakeUsageMeter()
    client, services = app_with(usage_meter=meter)
    mine = services.keys.create("laptop")
    admin = services.keys.create("ops", Scope.ADMIN)
    meter.names.update({mine.record.key_id: "laptop", admin.record.key_id: "ops"})
    with client:
        transcribe(client, mine.secret)
        transcribe(client, mine.secret, content=b"junk")
        transcribe(client, admin.secret)
        own = client.get("/v1/usage", headers={"Authorization": f"Bearer {mine.secret}"})
        assert own.status_code == 200
        (day,) = own.json()["data"]
        assert day["key_name"] == "laptop" and day["object"] == "usage.day"
        assert (day["requests"], day["audio_seconds"], day["failures"]) == (2, 4.0, 1)
        assert day["processing_seconds"] >= 0
        forbidden = client.get(
            "/v1/usage",
            params={"key": admin.record.key_id},
            headers={"Authorization": f"Bearer {mine.secret}"},
        )
        assert error_of(forbidden, 403)["code"] == "insufficient_scope"
        everyone = client.get("/v1/usage", headers={"Authorization": f"Bearer {admin.secret}"})
        names = {d["key_name"] for d in everyone.json()["data"]}
        assert names == {"laptop", "ops"}
        since = client.get(
            "/v1/usage",
            params={"since": "2999-01-01"},
            headers={"Authorization": f"Bearer {admin.secret}"},
        )
        assert since.json()["data"] == []


def test_cross_origin_pages_are_refused_unless_allowed() -> None:
    client, _ = app_with()
    with client:
        error = error_of(transcribe(client, headers={"Origin": "https://evil.example"}), 403)
        assert error["code"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in transcribe(client).headers
        # The service's own page may call it.
        assert transcribe(client, headers={"Origin": "http://testserver"}).status_code == 200

    client, _ = app_with(cors_origins="https://app.example, https://other.example/")
    with client:
        allowed = transcribe(client, headers={"Origin": "https://app.example"})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-ratelimit-remaining-requests" in allowed.headers["access-control-expose-headers"]
        preflight = client.options(
            URL,
            headers={
                "Origin": "https://other.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 200
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        error_of(transcribe(client, headers={"Origin": "https://evil.example"}), 403)


def test_security_headers(client: TestClient) -> None:
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert "script-src 'self' 'sha256-" in csp  # the page's inline script, by hash only
    assert "media-src 'self' data: blob:" in csp and "'unsafe-eval'" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    api = client.get("/v1/models")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in client.get("/docs").headers  # Swagger UI's CDN


def test_the_page_csp_allows_each_inline_script_by_its_hash() -> None:
    from scribe.api.security_headers import inline_script_hashes

    html = "<script>a()</script><script type=module src='/x.js'></script><SCRIPT>a()</SCRIPT>"
    assert len(inline_script_hashes(html)) == 1


def test_a_database_outage_is_a_503_and_health_still_answers() -> None:
    class DownStore(FakeKeyStore):
        def with_prefix(self, prefix: str) -> list[ApiKey]:
            raise StorageUnavailable("The service's database is unavailable; try again shortly.")

    client, services = app_with(key_store=DownStore(), host="0.0.0.0")
    key = services.keys.create("laptop").secret
    with client:
        response = transcribe(client, key)
        assert error_of(response, 503)["code"] == "storage_unavailable"
        assert response.headers["retry-after"] == "5"
        assert client.get("/health").status_code == 200
