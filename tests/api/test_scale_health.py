"""Readiness of an API node (SCRIBE_JOB_QUEUE=celery): it loads no model and reports its broker;
a broker that does not answer makes it unready (503 with Retry-After)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from scribe.api.app import create_app
from tests.fakes import FakeAsr, fake_services
from tests.services import free_port


def test_an_api_node_whose_broker_is_down_is_not_ready() -> None:
    asr = FakeAsr()
    services: Any = fake_services(
        asr, job_queue="celery", redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    assert services.runner.consume is False  # the broker delivers jobs to workers
    with TestClient(create_app(services)) as client:
        answer = client.get("/health/ready")
    assert not asr.loaded  # an API node loads no model
    assert answer.status_code == 503 and answer.headers["retry-after"]
    body = answer.json()
    assert body["role"] == "api" and body["status"] == "unavailable"
    assert body["dependencies"]["broker"].startswith("down")
    assert "broker" in body["error"]
