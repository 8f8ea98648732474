"""Operations through the real app and composition root (fakes behind the ports): /metrics and
who may read it, readiness with devices, the graceful shutdown seen by clients (503 with
Retry-After, an error event on a stream, refused submissions, readiness turning 503)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from scribe.api.app import create_app
from scribe.domain.caller import Scope
from tests.fakes import FakeAsr, fake_services, wav_bytes

TRANSCRIBE = "/v1/audio/transcriptions"
JOBS = "/v1/audio/jobs"


def app_with(asr: FakeAsr | None = None, **settings: Any) -> tuple[TestClient, Any]:
    services: Any = fake_services(asr, **settings)
    services.warm_up.run()
    return TestClient(create_app(services)), services


def upload(seconds: float = 4) -> dict[str, Any]:
    return {"file": ("clip.wav", wav_bytes(seconds), "audio/wav")}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def test_metrics_count_requests_by_route_template_jobs_audio_and_models() -> None:
    client, _ = app_with()
    with client:
        assert client.post(TRANSCRIBE, files=upload(4)).status_code == 200
        job = client.post(JOBS, files=upload(4)).json()
        deadline = time.monotonic() + 10
        while client.get(f"{JOBS}/{job['id']}").json()["status"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        client.get("/no/such/page/123")
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    route = "/v1/audio/jobs/{job_id}"
    assert value(text, "scribe_http_requests_total", method="GET", route=route, status="200")
    assert job["id"] not in text  # no ids in labels
    assert value(text, "scribe_http_requests_total", method="POST", route=TRANSCRIBE, status="200")
    assert value(text, "scribe_http_requests_total", method="GET", route="unmatched", status="404")
    assert value(
        text, "scribe_http_request_duration_seconds_count", method="POST", route=TRANSCRIBE
    )
    # Both jobs (the synchronous request is one too) ran here: their durations and audio.
    assert (
        value(
            text,
            "scribe_job_duration_seconds_count",
            task="transcribe",
            engine="fake-asr",
            status="completed",
        )
        == 2
    )
    assert (
        value(text, "scribe_audio_processed_seconds_total", task="transcribe", engine="fake-asr")
        == 8
    )
    # Jobs by state come from the store: the synchronous job's record stays until retention.
    assert value(text, "scribe_jobs", state="completed") == 2
    assert value(text, "scribe_jobs", state="queued") == 0
    assert value(text, "scribe_job_queue_depth") == 0
    assert value(text, "scribe_job_queue_capacity") == 64
    assert (
        value(text, "scribe_model_loaded", model="fake-asr", role="asr", device="", dtype="") == 1
    )
    assert "scribe_gpu_memory_allocated_bytes" not in text  # no GPU in use here


def test_metrics_need_an_admin_key_while_keys_are_required_unless_public() -> None:
    client, services = app_with()
    user = services.keys.create("laptop")
    admin = services.keys.create("prometheus", scope=Scope.ADMIN)
    with client:
        assert client.get("/metrics").status_code == 401
        bearer = {"Authorization": f"Bearer {user.secret}"}
        refused = client.get("/metrics", headers=bearer)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "insufficient_scope"
        admin_bearer = {"Authorization": f"Bearer {admin.secret}"}
        assert client.get("/metrics", headers=admin_bearer).status_code == 200

    client, services = app_with(metrics_public=True)
    services.keys.create("laptop")
    with client:
        assert client.get("/metrics").status_code == 200


def test_readiness_names_each_model_with_its_device_and_dtype() -> None:
    client, _ = app_with()
    with client:
        body = client.get("/health/ready").json()
    # Today's fields stay (the web app reads them).
    assert body["status"] == "ready" and body["models"] == ["fake-asr"]
    assert body["diarizer"] == "fake-diarizer"
    assert body["engines"] == [{"name": "fake-asr", "device": None, "dtype": None, "loaded": True}]
    assert body["diarization"]["name"] == "fake-diarizer"


def test_whisper_and_the_embedded_diarizer_say_where_they_run(tmp_path: Path) -> None:
    from scribe.adapters.asr.faster_whisper_engine import FasterWhisperEngine
    from scribe.adapters.diarization.embedded import EmbeddedDiarizer
    from scribe.use_cases.model_info import model_info

    whisper = FasterWhisperEngine(
        model="base", cache_dir=tmp_path, device="cpu", compute_type="int8", name="w"
    )
    info = model_info(whisper, "asr", ready=False)
    assert (info.device, info.dtype, info.loaded) == ("cpu", "int8", False)
    info = model_info(EmbeddedDiarizer(), "diarizer", ready=False)
    assert (info.device, info.dtype, info.loaded) == ("cpu", "float32", False)
    cuda = FasterWhisperEngine(model="base", cache_dir=tmp_path, device="cuda", name="w")
    assert model_info(cuda, "asr", ready=False).device == "cuda:0"


def slow_asr(seconds: float, segments: int = 40) -> FakeAsr:
    step = 4.0 / segments
    return FakeAsr(
        script=[(i * step, (i + 1) * step, f"w{i}") for i in range(segments)], delay=seconds
    )


def test_shutdown_answers_waiting_clients_503_and_hands_running_background_jobs_back() -> None:
    # One slot: the background job runs, the synchronous request waits in the queue; a second
    # synchronous request streams. The grace (2 s) ends long before the fake engine (60 s).
    client, services = app_with(slow_asr(60), max_concurrent_jobs=1, shutdown_grace_seconds=2)
    answers: dict[str, Any] = {}
    with client:
        job = client.post(JOBS, files=upload(4)).json()
        deadline = time.monotonic() + 10
        while client.get(f"{JOBS}/{job['id']}").json()["status"] != "in_progress":
            assert time.monotonic() < deadline
            time.sleep(0.02)

        def wait_sync() -> None:
            answers["sync"] = client.post(TRANSCRIBE, files=upload(4))

        waiting = threading.Thread(target=wait_sync)
        waiting.start()
        deadline = time.monotonic() + 10
        while not services.jobs.cancellations.waiting():
            assert time.monotonic() < deadline
            time.sleep(0.02)

        assert services.shutdown.begin()
        assert not services.shutdown.begin()  # a second SIGTERM changes nothing
        waiting.join(timeout=10)
        sync = answers["sync"]
        # Queued when the shutdown began: answered at once, not at the end of the grace.
        assert sync.status_code == 503, sync.text
        error = sync.json()["error"]
        assert error["code"] == "server_shutting_down" and error["type"] == "service_unavailable"
        assert int(sync.headers["retry-after"]) >= 1

        refused = client.post(JOBS, files=upload(4))
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "server_shutting_down"
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "stopping"

        assert services.shutdown.wait(timeout=10)
        assert services.shutdown.handed_back == [job["id"]]
        stored = services.storage.jobs.get(job["id"])
        assert stored.status.value == "queued" and stored.attempts == 0
        assert f"{job['id']}/audio" in services.storage.blobs.blobs  # kept for the next run


def test_a_stream_gets_an_error_event_when_the_grace_ends() -> None:
    client, services = app_with(slow_asr(60), shutdown_grace_seconds=2)
    with client, client.stream("POST", TRANSCRIBE, files=upload(4), data={"stream": "true"}) as r:
        assert r.status_code == 200
        events = []
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if len(events) == 1:
                    services.shutdown.begin()
    assert events[0]["type"] == "transcript.text.delta"
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["code"] == "server_shutting_down"
