from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from scribe.api.app import create_app
from tests.fakes import FakeAsr, fake_services, wav_bytes

URL = "/v1/audio/transcriptions"


def post(
    client: TestClient, data: dict[str, Any] | None = None, content: bytes | None = None, **kw: Any
) -> Any:
    files = {"file": ("clip.wav", wav_bytes(4) if content is None else content, "audio/wav")}
    return client.post(URL, data=data or {}, files=files, **kw)


def assert_openai_error(response: Any, status: int, param: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param
    assert error["message"]
    return dict(error)


def test_json_is_the_default(client: TestClient) -> None:
    response = post(client)
    assert response.status_code == 200
    assert response.json()["text"] == "Hello there, how are you? I am fine, thank you."
    assert response.json()["usage"] == {"type": "duration", "seconds": 4.0}


def test_verbose_json_with_words_and_speakers(client: TestClient) -> None:
    body = post(
        client,
        {"response_format": "verbose_json", "timestamp_granularities[]": ["word", "segment"]},
    ).json()
    assert body["language"] == "english" and body["duration"] == 4.0
    assert [s["speaker"] for s in body["segments"]] == ["SPEAKER_00", "SPEAKER_01"]
    assert body["words"][0]["word"] == "Hello" and body["words"][0]["speaker"] == "SPEAKER_00"
    assert body["speakers"] == ["SPEAKER_00", "SPEAKER_01"]


def test_text_srt_vtt_carry_speakers(client: TestClient) -> None:
    text = post(client, {"response_format": "text"})
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text.splitlines() == [
        "SPEAKER_00: Hello there, how are you?",
        "SPEAKER_01: I am fine, thank you.",
    ]
    assert "SPEAKER_01: I am fine" in post(client, {"response_format": "srt"}).text
    vtt = post(client, {"response_format": "vtt"})
    assert vtt.headers["content-type"].startswith("text/vtt") and "<v SPEAKER_00>Hello" in vtt.text


def test_diarize_false_gives_plain_text(client: TestClient) -> None:
    response = post(client, {"response_format": "text", "diarize": "false"})
    assert response.text == "Hello there, how are you? I am fine, thank you.\n"


def stream_events(client: TestClient, data: dict[str, Any]) -> list[dict[str, Any]]:
    with client.stream(
        "POST", URL, data={"stream": "true", **data}, files={"file": ("a.wav", wav_bytes(4))}
    ) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]


def test_streaming_emits_deltas_then_done(client: TestClient) -> None:
    events = stream_events(client, {})
    types = [e["type"] for e in events]
    assert types == ["transcript.text.delta"] * 2 + ["transcript.text.done"]
    assert "".join(e["delta"] for e in events[:2]) == events[-1]["text"]
    assert [e["segment_id"] for e in events[:2]] == ["seg_0", "seg_1"]
    usage = events[-1]["usage"]
    assert usage["type"] == "tokens" and usage["seconds"] == 4.0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_a_diarized_stream_sends_each_segment_after_its_deltas(client: TestClient) -> None:
    events = stream_events(client, {"response_format": "diarized_json", "model": "whisper-1"})
    types = [e["type"] for e in events]
    assert types == ["transcript.text.delta", "transcript.text.segment"] * 2 + [
        "transcript.text.done"
    ]
    assert events[0]["segment_id"] == events[1]["id"] == "seg_0"
    assert events[2]["segment_id"] == events[3]["id"] == "seg_1"
    assert [events[1]["speaker"], events[3]["speaker"]] == ["A", "B"]


def test_known_speakers_are_named(client: TestClient, services: Any) -> None:
    import base64

    reference = "data:audio/wav;base64," + base64.b64encode(wav_bytes(3)).decode()
    body = post(
        client,
        {
            "response_format": "diarized_json",
            "known_speaker_names[]": ["Ada"],
            "known_speaker_references[]": [reference],
        },
    ).json()
    assert [s["speaker"] for s in body["segments"]] == ["Ada", "A"]


@pytest.mark.parametrize(
    ("data", "content", "param"),
    [
        ({}, b"", "file"),
        ({}, b"this is a text file, not audio", "file"),
        ({"response_format": "docx"}, None, "response_format"),
        ({"temperature": "2"}, None, "temperature"),
        ({"temperature": "hot"}, None, "temperature"),
        ({"model": "gpt-99"}, None, "model"),
        ({"language": "xx"}, None, "language"),
        ({"num_speakers": "0"}, None, "num_speakers"),
        ({"min_speakers": "3", "max_speakers": "2"}, None, "min_speakers"),
        ({"timestamp_granularities[]": "word"}, None, "timestamp_granularities"),
        (
            {"timestamp_granularities[]": "char", "response_format": "verbose_json"},
            None,
            "timestamp_granularities",
        ),
        ({"timestamp_granularities": "word"}, None, "timestamp_granularities"),
        ({"include[]": "everything"}, None, "include"),
        ({"include[]": "logprobs", "response_format": "text"}, None, "include"),
        ({"chunking_strategy": "manual"}, None, "chunking_strategy"),
        ({"chunking_strategy[type]": "client_vad"}, None, "chunking_strategy"),
        (
            {"chunking_strategy[type]": "server_vad", "chunking_strategy[threshold]": "2"},
            None,
            "chunking_strategy",
        ),
        (
            {"chunking_strategy[type]": "server_vad", "chunking_strategy[threshold]": "x"},
            None,
            "chunking_strategy",
        ),
        ({"languages[]": ["en", "xx"]}, None, "languages"),
        ({"language": "de"}, None, "language"),
        ({"num_speakers": "0", "model": "whisper-1"}, None, "num_speakers"),
        ({"known_speaker_names[]": "Ada"}, None, "known_speaker_references"),
        (
            {"known_speaker_names[]": "Ada", "known_speaker_references[]": "http://x"},
            None,
            "known_speaker_references",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(
    client: TestClient, data: dict[str, Any], content: bytes | None, param: str
) -> None:
    assert_openai_error(post(client, data, content), 400, param)
    assert post(client).status_code == 200  # and the service keeps working


def test_missing_file_is_a_400(client: TestClient) -> None:
    error = assert_openai_error(client.post(URL, data={"model": "whisper-1"}), 400, "file")
    assert "file" in error["message"]


def test_not_multipart_is_a_400(client: TestClient) -> None:
    assert_openai_error(client.post(URL, json={"file": "x"}), 400, "file")


def test_upload_over_the_limit_is_a_413(client: TestClient) -> None:
    big = wav_bytes(40)  # 1.28 MB against a 1 MB limit
    error = assert_openai_error(post(client, content=big), 413, "file")
    assert error["code"] == "file_too_large"


def test_chunked_upload_over_the_limit_is_a_413(client: TestClient) -> None:
    boundary = "b0undary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'.encode()

    def body() -> Any:
        yield head
        for _ in range(40):
            yield b"\0" * 64 * 1024
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        URL, content=body(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert_openai_error(response, 413, "file")


def test_not_ready_is_a_503_then_ready() -> None:
    services: Any = fake_services()
    app = create_app(services)
    client = TestClient(app)  # no lifespan: models never start loading
    assert client.get("/health").status_code == 200
    assert client.get("/health/ready").status_code == 503
    assert_openai_error(post(client), 503, None)
    services.warm_up.run()
    assert client.get("/health/ready").json()["status"] == "ready"
    assert post(client).status_code == 200


def test_models_lists_engines_and_openai_aliases(client: TestClient) -> None:
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert ids[0] == "fake-asr" and "whisper-1" in ids
    assert client.get("/v1/models/fake-asr").json()["id"] == "fake-asr"
    assert "gpt-4o-mini-transcribe-2025-12-15" in ids and "gpt-transcribe" in ids
    error = assert_openai_error(client.get("/v1/models/nope"), 404, "model")
    assert error["code"] == "model_not_found"


def test_unknown_route_is_openai_shaped_404(client: TestClient) -> None:
    assert_openai_error(client.get("/v1/nothing"), 404, None)


def test_openapi_and_web_page_are_served(client: TestClient) -> None:
    assert "/v1/audio/transcriptions" in client.get("/openapi.json").json()["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_every_format_parses_with_the_openai_sdk(client: TestClient) -> None:
    sdk = OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client)
    audio = ("clip.wav", io.BytesIO(wav_bytes(4)).getvalue())
    plain = sdk.audio.transcriptions.create(model="whisper-1", file=audio)
    assert plain.text.startswith("Hello")
    verbose = sdk.audio.transcriptions.create(
        model="whisper-1",
        file=audio,
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    assert verbose.words and verbose.words[0].word == "Hello"
    diarized = sdk.audio.transcriptions.create(
        model="whisper-1", file=audio, response_format="diarized_json"
    )
    assert diarized.segments[1].speaker == "B"
    for fmt in ("text", "srt", "vtt"):
        out = sdk.audio.transcriptions.create(model="whisper-1", file=audio, response_format=fmt)
        assert isinstance(out, str) and "Hello" in out
    events = list(sdk.audio.transcriptions.create(model="whisper-1", file=audio, stream=True))
    assert events[-1].type == "transcript.text.done"


def test_an_engine_failure_before_the_first_event_keeps_its_status() -> None:
    class Broken(FakeAsr):
        def transcribe(self, *a: Any, **k: Any) -> Any:
            raise RuntimeError("boom")

    services: Any = fake_services(asr=Broken(name="broken"))
    services.warm_up.run()
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        data = {"stream": "true"}
        assert_openai_error(post(client, data), 500, None)
        assert_openai_error(post(client), 500, None)


def test_an_engine_failure_mid_stream_becomes_an_error_event() -> None:
    class Halfway(FakeAsr):
        def _transcribe(self, audio: Any, options: Any, on_segment: Any) -> Any:
            def first_only(segment: Any) -> None:
                on_segment(segment)
                raise RuntimeError("boom")

            return super()._transcribe(audio, options, first_only)

    services: Any = fake_services(asr=Halfway(name="halfway"))
    services.warm_up.run()
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        events = stream_events(client, {"diarize": "false"})
    assert [e["type"] for e in events] == ["transcript.text.delta", "error"]
    assert events[-1]["error"]["type"] == "server_error"


def test_text_rules_paragraphs_and_sentiment_through_the_api(tmp_path: Any) -> None:
    from scribe.adapters.nlp.paragraphs import ParagraphDetector
    from scribe.adapters.nlp.text_rules_file import TextRulesProcessor, load_text_rules
    from scribe.adapters.nlp.vader_sentiment import VaderSentimentAnalyzer

    rules = tmp_path / "rules.yaml"
    rules.write_text(
        'rule_sets:\n  polite:\n    - replace: {find: "fine", with: "great", whole_word: true}\n'
    )
    asr = FakeAsr(
        script=((0.0, 2.0, "Hello there, how are you?"), (2.0, 4.0, "I am fine, thank you."))
    )
    steps = [
        TextRulesProcessor(load_text_rules(rules)),
        ParagraphDetector(1.5, 6),
        VaderSentimentAnalyzer(),
    ]
    services: Any = fake_services(asr=asr, post_processors=steps)
    services.warm_up.run()
    with TestClient(create_app(services)) as client:
        assert_openai_error(post(client, {"text_rules[]": "rude"}), 400, "text_rules")
        assert asr.calls == []  # rejected before any work
        body = post(
            client,
            {
                "response_format": "verbose_json",
                "text_rules[]": "polite",
                "detect_paragraphs": "true",
                "detect_sentiment": "true",
            },
        ).json()
    assert "I am great, thank you." in body["text"]
    assert [p["speaker"] for p in body["paragraphs"]] == ["SPEAKER_00", "SPEAKER_01"]
    assert body["sentiment"]["overall"]["label"] == "positive"
    assert len(body["sentiment"]["segments"]) == 2
