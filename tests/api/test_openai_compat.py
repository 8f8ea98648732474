"""A migrating OpenAI client gets what OpenAI would give it: through the official openai SDK
against the real app (fakes behind it), and raw where the SDK hides the wire."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from typing import Any

import anyio
import openai
import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from scribe.api.app import create_app
from scribe.api.streaming import run_cancellable
from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import Cancelled
from scribe.domain.options import Task, VadChunking
from scribe.ports.asr_engine import AsrCapabilities
from tests.fakes import FakeAsr, fake_services, wav_bytes

URL = "/v1/audio/transcriptions"
AUDIO = ("clip.wav", wav_bytes(4))


def sdk(client: TestClient, **kw: Any) -> OpenAI:
    return OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client, **kw)


def test_openai_ids_give_no_speakers_unless_asked(client: TestClient) -> None:
    api = sdk(client)
    for fmt in ("text", "srt", "vtt"):
        out = api.audio.transcriptions.create(model="whisper-1", file=AUDIO, response_format=fmt)
        assert "SPEAKER" not in out and "<v" not in out, out
    verbose = api.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=AUDIO, response_format="verbose_json"
    )
    assert all(s.model_extra.get("speaker") is None for s in verbose.segments)  # type: ignore[union-attr]
    asked = api.audio.transcriptions.create(
        model="whisper-1", file=AUDIO, response_format="text", extra_body={"diarize": True}
    )
    assert asked.startswith("SPEAKER_00: ")
    diarize_model = api.audio.transcriptions.create(
        model="gpt-4o-transcribe-diarize", file=AUDIO, response_format="diarized_json"
    )
    assert [s.speaker for s in diarize_model.segments] == ["A", "B"]


def test_the_services_own_ids_keep_the_server_default(client: TestClient) -> None:
    out = sdk(client).audio.transcriptions.create(
        model="fake-asr", file=AUDIO, response_format="text"
    )
    assert out.startswith("SPEAKER_00: ")


def test_openai_ids_and_no_diarization_cost_nothing(services: Any, client: TestClient) -> None:
    diarizer = services.diarizer
    sdk(client).audio.transcriptions.create(model="whisper-1", file=AUDIO)
    assert diarizer.hints == []


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json"])
def test_translations_in_every_format(client: TestClient, services: Any, fmt: str) -> None:
    out: Any = sdk(client).audio.translations.create(
        model="whisper-1", file=AUDIO, response_format=fmt
    )
    text = out if isinstance(out, str) else out.text
    assert "[en] Hello there" in text and "SPEAKER" not in text
    assert services.engines.default.calls[-1].task is Task.TRANSLATE
    if fmt == "verbose_json":
        assert out.language == "english" and out.model_extra["task"] == "translate"
        assert out.segments and out.duration == 4.0


def test_an_engine_that_cannot_translate_is_a_400_naming_those_that_can() -> None:
    parakeet = FakeAsr(name="parakeet", capabilities=AsrCapabilities())
    services: Any = fake_services(asr=parakeet)
    services.warm_up.run()
    with TestClient(create_app(services)) as client:
        with pytest.raises(openai.BadRequestError) as err:
            sdk(client).audio.translations.create(model="parakeet", file=AUDIO)
        assert err.value.code == "translation_unsupported" and err.value.param == "model"
        assert "No engine on this server can" in err.value.message
        assert parakeet.calls == []


def test_verbose_json_reports_the_language_by_name_and_takes_bcp47(client: TestClient) -> None:
    out = sdk(client).audio.transcriptions.create(
        model="whisper-1", file=AUDIO, response_format="verbose_json", language="en-US"
    )
    assert out.language == "english"


def test_logprobs_come_from_word_probabilities(client: TestClient, services: Any) -> None:
    out = sdk(client).audio.transcriptions.create(
        model="gpt-4o-transcribe", file=AUDIO, include=["logprobs"]
    )
    assert out.logprobs and len(out.logprobs) == len(out.text.split())
    first = out.logprobs[0]
    assert first.token == " Hello" and first.logprob == pytest.approx(-0.1054, abs=1e-4)
    assert first.bytes == list(b" Hello")
    events = list(
        sdk(client).audio.transcriptions.create(
            model="gpt-4o-transcribe", file=AUDIO, include=["logprobs"], stream=True
        )
    )
    assert events[0].logprobs and events[0].logprobs[0].token == " Hello"  # type: ignore[union-attr]
    assert events[-1].logprobs and len(events[-1].logprobs) == len(out.logprobs)  # type: ignore[union-attr]


def test_an_engine_without_word_probabilities_refuses_logprobs() -> None:
    parakeet = FakeAsr(name="parakeet", capabilities=AsrCapabilities())
    services: Any = fake_services(asr=parakeet)
    services.warm_up.run()
    with TestClient(create_app(services)) as client, pytest.raises(openai.BadRequestError) as err:
        sdk(client).audio.transcriptions.create(model="whisper-1", file=AUDIO, include=["logprobs"])
    assert err.value.param == "include" and err.value.code == "logprobs_unsupported"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("auto", VadChunking()),
        (
            {"type": "server_vad", "threshold": 0.6, "silence_duration_ms": 300},
            VadChunking(threshold=0.6, silence_duration_ms=300),
        ),
    ],
)
def test_chunking_strategy_becomes_voice_activity_chunking(
    client: TestClient, services: Any, strategy: Any, expected: VadChunking
) -> None:
    sdk(client).audio.transcriptions.create(
        model="whisper-1", file=AUDIO, chunking_strategy=strategy
    )
    assert services.engines.default.calls[-1].chunking == expected


def test_chunking_strategy_as_a_json_string(client: TestClient, services: Any) -> None:
    strategy = json.dumps({"type": "server_vad", "prefix_padding_ms": 200})
    response = client.post(URL, data={"chunking_strategy": strategy}, files={"file": AUDIO})
    assert response.status_code == 200, response.text
    assert services.engines.default.calls[-1].chunking == VadChunking(prefix_padding_ms=200)


def test_keywords_languages_prompt_and_temperature_reach_the_engine(
    client: TestClient, services: Any
) -> None:
    out = sdk(client).audio.transcriptions.create(
        model="gpt-transcribe",
        file=AUDIO,
        keywords=["Scribe", "pyannote"],
        languages=["fr", "en-GB"],
        prompt="Names: Scribe.",
        temperature=0.4,
    )
    options = services.engines.default.calls[-1]
    assert options.keywords == ("Scribe", "pyannote") and options.languages == ("fr", "en")
    assert options.language is None and options.prompt == "Names: Scribe."
    assert options.temperature == 0.4
    assert out.languages and out.languages[0].code == "en"


def test_list_fields_without_brackets_are_accepted(client: TestClient, services: Any) -> None:
    body = client.post(
        URL,
        data={
            "response_format": "verbose_json",
            "timestamp_granularities": ["word", "segment"],
            "keywords": "Scribe",
        },
        files={"file": AUDIO},
    ).json()
    assert body["words"] and body["segments"]
    assert services.engines.default.calls[-1].keywords == ("Scribe",)
    logprobs = client.post(URL, data={"include": "logprobs"}, files={"file": AUDIO}).json()
    assert logprobs["logprobs"]


def test_every_sdk_model_id_is_accepted(client: TestClient) -> None:
    for model in ("gpt-transcribe", "gpt-4o-mini-transcribe-2025-12-15", "gpt-4o-mini-transcribe"):
        assert sdk(client).audio.transcriptions.create(model=model, file=AUDIO).text


def test_a_bad_language_in_a_stream_is_a_400_not_an_error_event(client: TestClient) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        sdk(client).audio.transcriptions.create(
            model="whisper-1", file=AUDIO, language="klingon", stream=True
        )
    assert err.value.param == "language"


def test_a_stream_refused_by_the_engine_itself_is_a_400() -> None:
    # The engine's own check (not the options builder's) still comes back as an HTTP status.
    class Picky(FakeAsr):
        def transcribe(self, *a: Any, **k: Any) -> Any:
            from scribe.domain.errors import InvalidRequest

            raise InvalidRequest("No.", param="prompt")

    services: Any = fake_services(asr=Picky(name="picky"))
    services.warm_up.run()
    with TestClient(create_app(services)) as client, pytest.raises(openai.BadRequestError) as err:
        sdk(client).audio.transcriptions.create(model="whisper-1", file=AUDIO, stream=True)
    assert err.value.param == "prompt"


def test_json_streams_have_no_segment_events_and_diarized_ones_do(client: TestClient) -> None:
    api = sdk(client)
    plain = list(api.audio.transcriptions.create(model="whisper-1", file=AUDIO, stream=True))
    assert [e.type for e in plain] == ["transcript.text.delta"] * 2 + ["transcript.text.done"]
    assert plain[0].segment_id == "seg_0"  # type: ignore[union-attr]
    done = plain[-1]
    assert done.usage and done.usage.input_tokens == 200 and done.usage.type == "tokens"  # type: ignore[union-attr]
    diarized = list(
        api.audio.transcriptions.create(
            model="whisper-1", file=AUDIO, stream=True, response_format="diarized_json"
        )
    )
    segments = [e for e in diarized if e.type == "transcript.text.segment"]
    deltas = [e for e in diarized if e.type == "transcript.text.delta"]
    assert [s.speaker for s in segments] == ["A", "B"]  # type: ignore[union-attr]
    assert [d.segment_id for d in deltas] == [s.id for s in segments]  # type: ignore[union-attr]


def test_request_ids_on_every_response(client: TestClient, services: Any) -> None:
    answers = {
        "ok": client.post(URL, files={"file": AUDIO}),
        "bad": client.post(URL, data={"model": "nope"}, files={"file": AUDIO}),
        "missing": client.get("/v1/nothing"),
        "method": client.get(URL),
        "too large": client.post(URL, files={"file": ("a.wav", wav_bytes(40))}),
        "models": client.get("/v1/models"),
        "health": client.get("/health"),
    }
    ids = {name: r.headers.get("x-request-id") for name, r in answers.items()}
    assert all(i and i.startswith("req_") for i in ids.values()), ids
    assert len(set(ids.values())) == len(ids)
    mine = client.get("/health", headers={"x-request-id": "trace-42"})
    assert mine.headers["x-request-id"] == "trace-42"
    odd = client.get("/health", headers={"x-request-id": "bad id\twith spaces"})
    assert odd.headers["x-request-id"].startswith("req_")
    raw = sdk(client).audio.transcriptions.with_raw_response.create(model="whisper-1", file=AUDIO)
    assert raw.headers["x-request-id"].startswith("req_")


def test_the_request_id_is_on_that_requests_log_lines(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from scribe.api.request_context import RequestIdFilter

    handler = caplog.handler
    handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        response = client.post(URL, data={"model": "whisper-1"}, files={"file": AUDIO})
    request_id = response.headers["x-request-id"]
    ours = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert ours, [(r.name, getattr(r, "request_id", None)) for r in caplog.records]


def test_a_500_carries_the_request_id_too() -> None:
    class Broken(FakeAsr):
        def transcribe(self, *a: Any, **k: Any) -> Any:
            raise RuntimeError("boom")

    services: Any = fake_services(asr=Broken(name="broken"))
    services.warm_up.run()
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        response = client.post(URL, files={"file": AUDIO})
    assert response.status_code == 500 and response.headers["x-request-id"].startswith("req_")


def test_405_has_allow_and_openais_shape(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"
    with pytest.raises(openai.APIStatusError) as err:
        sdk(client).get("/audio/translations", cast_to=object)
    assert err.value.status_code == 405


def test_an_unknown_model_id_is_a_404_through_the_sdk(client: TestClient) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        sdk(client).models.retrieve("unknown")
    assert err.value.code == "model_not_found"
    assert sdk(client).models.retrieve("whisper-1").id == "whisper-1"


def test_audio_under_a_tenth_of_a_second_is_a_400(client: TestClient) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        sdk(client).audio.transcriptions.create(
            model="whisper-1", file=("blip.wav", wav_bytes(0.002))
        )
    assert err.value.code == "audio_too_short" and err.value.param == "file"


def test_503s_carry_retry_after_and_the_sdks_retries_then_succeed() -> None:
    services: Any = fake_services()
    services.warm_up._retry_after = 1.0  # quick for the test; 10 s by default
    app = create_app(services)
    client = TestClient(app)  # no lifespan: nothing loads until the timer below
    loading = client.post(URL, files={"file": AUDIO})
    assert loading.status_code == 503 and loading.headers["retry-after"] == "1"
    ready = client.get("/health/ready")
    assert ready.status_code == 503 and ready.headers["retry-after"] == "1"
    threading.Timer(0.3, services.warm_up.run).start()
    started = time.monotonic()
    out = sdk(client, max_retries=2).audio.transcriptions.create(model="whisper-1", file=AUDIO)
    assert out.text and 0.9 <= time.monotonic() - started < 5


def test_every_503_and_429_has_retry_after() -> None:
    from scribe.api.errors import error_response
    from scribe.domain.errors import ModelUnavailable

    failed: Any = fake_services()
    failed.warm_up._error = ModelUnavailable("no weights")
    failed.warm_up._done.set()
    with TestClient(create_app(failed)) as client:
        response = client.post(URL, files={"file": AUDIO})
    assert response.status_code == 503 and int(response.headers["retry-after"]) >= 1
    assert error_response(429, "slow down", "rate_limit_error").headers["retry-after"] == "1"
    assert "retry-after" not in error_response(400, "no", "invalid_request_error").headers


class _Disconnecting:
    """Stands in for a Starlette Request whose client leaves after ``after`` seconds."""

    def __init__(self, after: float) -> None:
        self._gone_at = time.monotonic() + after

    async def is_disconnected(self) -> bool:
        return time.monotonic() >= self._gone_at


def test_a_client_that_disconnects_cancels_its_work() -> None:
    steps: list[int] = []

    def work(token: CancelToken) -> str:
        for step in range(100):
            token.raise_if_cancelled()
            steps.append(step)
            time.sleep(0.02)
        return "finished"

    async def main() -> None:
        await run_cancellable(_Disconnecting(0.2), work, poll_seconds=0.02)  # type: ignore[arg-type]

    with pytest.raises(Cancelled):
        anyio.run(main)
    assert 3 < len(steps) < 50


def test_a_client_that_stays_gets_the_result() -> None:
    async def main() -> str:
        return await run_cancellable(_Disconnecting(60), lambda token: "done")  # type: ignore[arg-type]

    assert anyio.run(main) == "done"


def test_a_slow_stream_answers_at_once_and_keeps_the_connection_alive() -> None:
    from scribe.api.streaming import KEEPALIVE, JobStream
    from scribe.domain.response_format import ResponseFormat
    from scribe.use_cases.options import TranscriptionRequest

    services: Any = fake_services(asr=FakeAsr(delay=0.6))
    services.warm_up.run()
    services.runner.start()
    submission = services.jobs.submit(
        None, TranscriptionRequest(model="whisper-1"), io.BytesIO(wav_bytes(4)), background=False
    )
    stream = JobStream(services.jobs, submission.job.id, submission.options, ResponseFormat.JSON)

    async def main() -> tuple[float, list[str]]:
        started = time.monotonic()
        await stream.start(_Disconnecting(60), commit_after=0.1)  # type: ignore[arg-type]
        waited = time.monotonic() - started
        return waited, [event async for event in stream.events(keepalive=0.05)]

    try:
        waited, events = anyio.run(main)
    finally:
        services.runner.stop()
    assert waited < 0.5 and KEEPALIVE in events
    assert json.loads(events[-1][6:])["type"] == "transcript.text.done"


def test_the_sdk_types_parse_every_new_field(client: TestClient) -> None:
    diarized = sdk(client).audio.transcriptions.create(
        model="whisper-1",
        file=AUDIO,
        response_format="diarized_json",
        known_speaker_names=["Ada"],
        known_speaker_references=[
            "data:audio/wav;base64," + __import__("base64").b64encode(wav_bytes(3)).decode()
        ],
    )
    assert [s.speaker for s in diarized.segments] == ["Ada", "A"]
    assert diarized.task == "transcribe" and diarized.usage and diarized.usage.type == "duration"
    assert io  # the module is used for file tuples elsewhere
