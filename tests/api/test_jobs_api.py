"""/v1/audio/jobs through the real app (fakes behind the ports): the job resource, its list,
result in every format, server-sent events, cancel, delete, keys, and the one bounded queue
that synchronous requests share."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from scribe.adapters.webhooks.sender import StandardWebhookSender
from scribe.api.app import create_app
from tests.adapters.test_webhooks import SECRET, Receiver, receiver  # noqa: F401 (fixture)
from tests.fakes import FakeAsr, fake_services, wav_bytes

JOBS = "/v1/audio/jobs"
TRANSCRIBE = "/v1/audio/transcriptions"


def slow_asr(seconds: float, segments: int = 40) -> FakeAsr:
    step = 4.0 / segments
    return FakeAsr(
        script=[(i * step, (i + 1) * step, f"w{i}") for i in range(segments)], delay=seconds
    )


@pytest.fixture
def app() -> Iterator[Any]:
    made: list[TestClient] = []

    def build(asr: FakeAsr | None = None, **settings: Any) -> tuple[TestClient, Any]:
        services: Any = fake_services(asr, **settings)
        services.warm_up.run()
        client = TestClient(create_app(services))
        client.__enter__()
        made.append(client)
        return client, services

    yield build
    for client in made:
        client.__exit__(None, None, None)


def submit(client: TestClient, key: str | None = None, **data: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    files = {"file": ("clip.wav", data.pop("content", wav_bytes(4)), "audio/wav")}
    return client.post(JOBS, files=files, data=data, headers=headers)


def wait(client: TestClient, job_id: str, status: str, key: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"{JOBS}/{job_id}", headers=headers).json()
        if job["status"] == status:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is {job['status']}, not {status}")


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_submit_answers_202_with_the_job_and_it_completes(app: Any) -> None:
    client, _ = app()
    response = submit(client, model="whisper-1", response_format="srt", task="transcribe")
    assert response.status_code == 202
    job = response.json()
    assert job["id"].startswith("job_") and job["object"] == "audio.job"
    assert job["status"] == "queued" and job["model"] == "fake-asr"
    assert job["task"] == "transcribe" and isinstance(job["created_at"], int)
    assert job["progress"] == {"stage": "queued", "fraction": 0.0}
    done = wait(client, job["id"], "completed")
    assert done["progress"] == {"stage": "done", "fraction": 1.0}
    assert done["usage"]["type"] == "duration" and done["usage"]["seconds"] == 4.0
    assert done["error"] is None and done["finished_at"] >= done["started_at"]


def test_the_result_comes_in_any_format(app: Any) -> None:
    client, _ = app()
    job = submit(client, response_format="srt").json()
    wait(client, job["id"], "completed")
    default = client.get(f"{JOBS}/{job['id']}/result")
    assert default.headers["content-type"].startswith("application/x-subrip")
    assert default.text.startswith("1\n00:00:00,000 --> ")
    for fmt, kind in (("json", "application/json"), ("vtt", "text/vtt"), ("text", "text/plain")):
        response = client.get(f"{JOBS}/{job['id']}/result", params={"response_format": fmt})
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
    verbose = client.get(f"{JOBS}/{job['id']}/result?response_format=verbose_json").json()
    assert verbose["text"] == "Hello there, how are you? I am fine, thank you."
    assert {s["speaker"] for s in verbose["segments"]} == {"SPEAKER_00", "SPEAKER_01"}
    error_of(client.get(f"{JOBS}/{job['id']}/result?response_format=docx"), 400)


def test_the_result_is_a_409_until_the_job_completes(app: Any) -> None:
    client, _ = app(slow_asr(5))
    job = submit(client).json()
    error = error_of(client.get(f"{JOBS}/{job['id']}/result"), 409)
    assert error["code"] == "job_not_completed" and error["param"] == "job_id"
    client.post(f"{JOBS}/{job['id']}/cancel")


def test_a_failed_job_carries_an_openai_error(app: Any) -> None:
    client, _ = app()
    job = submit(client, content=b"this is not audio").json()
    failed = wait(client, job["id"], "failed")
    assert failed["error"]["type"] == "invalid_request_error"
    assert failed["error"]["param"] == "file" and failed["error"]["code"]


def test_bad_requests_are_refused_before_anything_is_queued(app: Any) -> None:
    client, services = app()
    error = error_of(submit(client, model="no-such-model"), 400)
    assert error["param"] == "model"
    error_of(submit(client, task="summarise"), 400)
    assert error_of(submit(client, stream="true"), 400)["code"] == "unknown_parameter"
    error = error_of(submit(client, callback_url="http://127.0.0.1/hook"), 400)
    assert error["param"] == "callback_url"  # the sender's URL check, at submit
    error_of(client.post(JOBS, data={"model": "whisper-1"}), 400)  # no file
    assert services.storage.jobs.jobs == {}


def test_events_stream_in_order_and_end_with_the_result(app: Any) -> None:
    client, _ = app(slow_asr(1, segments=4))
    job = submit(client, response_format="diarized_json").json()
    with client.stream("GET", f"{JOBS}/{job['id']}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = [_event(block) for block in body.split("\n\n") if block.startswith("id:")]
    ids = [i for i, _ in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    types = [e["type"] for _, e in events]
    assert types[0] == "job.in_progress" and types[-1] == "job.completed"
    assert "job.progress" in types and "transcript.text.segment" in types
    last = events[-1][1]
    assert last["job"]["status"] == "completed"
    assert last["result"]["segments"][0]["type"] == "transcript.text.segment"
    # Resume after the third event: exactly the rest, same ids.
    with client.stream(
        "GET", f"{JOBS}/{job['id']}/events", headers={"Last-Event-ID": str(ids[2])}
    ) as response:
        rest = [
            _event(b) for b in "".join(response.iter_text()).split("\n\n") if b.startswith("id:")
        ]
    assert [i for i, _ in rest] == ids[3:]
    error_of(client.get(f"{JOBS}/{job['id']}/events", headers={"Last-Event-ID": "x"}), 400)


def _event(block: str) -> tuple[int, dict[str, Any]]:
    lines = dict(line.split(": ", 1) for line in block.strip().splitlines())
    return int(lines["id"]), json.loads(lines["data"])


def test_cancel_stops_a_running_job_and_delete_removes_it(app: Any) -> None:
    client, services = app(slow_asr(30))
    job = submit(client).json()
    wait(client, job["id"], "in_progress")
    started = time.monotonic()
    cancelled = client.post(f"{JOBS}/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert time.monotonic() - started < 3
    deleted = client.delete(f"{JOBS}/{job['id']}")
    assert deleted.json() == {"id": job["id"], "object": "audio.job.deleted", "deleted": True}
    assert error_of(client.get(f"{JOBS}/{job['id']}"), 404)["code"] == "not_found"
    assert not [k for k in services.storage.blobs.blobs if k.startswith(job["id"])]


def test_cancelling_a_finished_job_is_a_409(app: Any) -> None:
    client, _ = app()
    job = submit(client).json()
    wait(client, job["id"], "completed")
    assert error_of(client.post(f"{JOBS}/{job['id']}/cancel"), 409)["code"] == "job_finished"


def test_the_list_pages_newest_first_in_openais_shape(app: Any) -> None:
    client, _ = app()
    ids = [submit(client).json()["id"] for _ in range(5)]
    page = client.get(JOBS, params={"limit": 2}).json()
    assert page["object"] == "list" and page["has_more"] is True
    assert [j["id"] for j in page["data"]] == ids[::-1][:2]
    assert page["first_id"] == ids[-1] and page["last_id"] == ids[-2]
    rest = client.get(JOBS, params={"limit": 10, "after": page["last_id"]}).json()
    assert [j["id"] for j in rest["data"]] == ids[::-1][2:] and rest["has_more"] is False
    error_of(client.get(JOBS, params={"limit": 1000}), 400)
    error_of(client.get(JOBS, params={"after": "job_nope"}), 404)


def test_a_job_keeps_the_uploads_file_name_cleaned(app: Any) -> None:
    client, _ = app()
    named = {
        "Team meeting (Mon).m4a": "Team meeting (Mon).m4a",
        "C:\\Users\\ada\\Desktop\\talk.wav": "talk.wav",
        "../../etc/interview\u202egnp.mp3": "interviewgnp.mp3",  # (httpx escapes C0 controls)
        "Réunion 😀.ogg": "Réunion 😀.ogg",
        "a" * 300 + ".wav": "a" * 255,
    }
    for sent, kept in named.items():
        files = {"file": (sent, wav_bytes(1), "audio/wav")}
        job = client.post(JOBS, files=files).json()
        assert job["filename"] == kept, sent
        assert client.get(f"{JOBS}/{job['id']}").json()["filename"] == kept
    listed = client.get(JOBS, params={"limit": 1}).json()["data"][0]
    assert listed["filename"] == "a" * 255


def test_the_list_filters_by_status(app: Any) -> None:
    client, _ = app()
    done = submit(client).json()["id"]
    wait(client, done, "completed")
    failed = submit(client, content=b"this is not audio").json()["id"]
    wait(client, failed, "failed")
    only = client.get(JOBS, params={"status": "failed"}).json()
    assert [j["id"] for j in only["data"]] == [failed] and only["has_more"] is False
    both = client.get(f"{JOBS}?status=completed&status=failed").json()
    assert [j["id"] for j in both["data"]] == [failed, done]
    assert [j["id"] for j in client.get(f"{JOBS}?status=failed,completed").json()["data"]] == [
        failed,
        done,
    ]
    assert client.get(JOBS, params={"status": "running"}).json()["data"] == []
    assert client.get(JOBS, params={"status": "queued"}).json()["data"] == []
    error = error_of(client.get(JOBS, params={"status": "finished"}), 400)
    assert error["param"] == "status" and "finished" in error["message"]


def test_keys_cannot_see_each_others_jobs(app: Any) -> None:
    client, services = app()
    ada = services.keys.create("ada").secret
    bob = services.keys.create("bob").secret
    job = submit(client, ada).json()
    wait(client, job["id"], "completed", ada)
    headers = {"Authorization": f"Bearer {bob}"}
    for method, path in (
        ("GET", f"{JOBS}/{job['id']}"),
        ("GET", f"{JOBS}/{job['id']}/result"),
        ("GET", f"{JOBS}/{job['id']}/events"),
        ("POST", f"{JOBS}/{job['id']}/cancel"),
        ("DELETE", f"{JOBS}/{job['id']}"),
    ):
        assert error_of(client.request(method, path, headers=headers), 404)["code"] == "not_found"
    assert client.get(JOBS, headers=headers).json()["data"] == []
    mine = client.get(JOBS, headers={"Authorization": f"Bearer {ada}"}).json()["data"]
    assert [j["id"] for j in mine] == [job["id"]]
    error_of(client.get(JOBS), 401)


def test_a_full_queue_answers_503_with_retry_after_for_jobs_and_requests(app: Any) -> None:
    client, _ = app(slow_asr(20), job_queue_size=1, max_concurrent_jobs=1)
    running = submit(client).json()
    wait(client, running["id"], "in_progress")
    waiting = submit(client).json()
    for response in (
        submit(client),
        client.post(TRANSCRIBE, files={"file": ("a.wav", wav_bytes(2), "audio/wav")}),
    ):
        error = error_of(response, 503)
        assert error["code"] == "queue_full" and error["type"] == "service_unavailable"
        assert int(response.headers["retry-after"]) >= 1
    for job in (waiting, running):
        client.post(f"{JOBS}/{job['id']}/cancel")


def test_a_synchronous_request_is_a_job_that_leaves_no_files(app: Any) -> None:
    client, services = app()
    response = client.post(TRANSCRIBE, files={"file": ("a.wav", wav_bytes(4), "audio/wav")})
    assert response.status_code == 200 and response.json()["text"]
    jobs = list(services.storage.jobs.jobs.values())
    assert len(jobs) == 1 and jobs[0].status.value == "completed" and not jobs[0].background
    assert services.storage.blobs.blobs == {}


def test_a_callback_reaches_a_real_receiver_signed(app: Any, receiver: Receiver) -> None:  # noqa: F811
    sender = StandardWebhookSender(SECRET, allow_private=True, timeout_seconds=2)
    client, _ = app(webhooks=sender)
    job = submit(client, callback_url=receiver.url("/done?x=1")).json()
    assert job["callback_url"] == receiver.url("/done?x=1")
    done = wait(client, job["id"], "completed")
    deadline = time.monotonic() + 10
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    [got] = receiver.received
    event = Webhook(SECRET).verify(got.body, got.headers)  # raises unless the signature is valid
    assert got.path == "/done?x=1" and event["type"] == "audio.job.completed"
    # The payload is the job object as GET shows it; its callback was pending when it was made.
    pending = {"url": job["callback_url"], "status": "pending", "attempts": 0}
    assert event["data"] == {
        **done,
        "callback": {**pending, "last_error": None, "delivered_at": None},
    }
    assert got.headers["webhook-id"].startswith("msg_")
    deadline = time.monotonic() + 5
    while client.get(f"{JOBS}/{job['id']}").json()["callback"]["status"] != "delivered":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    shown = client.get(f"{JOBS}/{job['id']}").json()["callback"]
    assert shown["attempts"] == 1 and shown["delivered_at"] >= done["finished_at"]
    listed = client.get(JOBS).json()["data"]
    assert [j["callback"]["status"] for j in listed if j["id"] == job["id"]] == ["delivered"]
