"""A client moving from OpenAI's API changes only its base URL: each point through the official
openai SDK against a real `scribe serve` (real engines, real recordings)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest
from openai import OpenAI

from scribe.evaluation import word_error_rate
from tests.clips import load_clip
from tests.e2e.conftest import Server
from tests.fakes import encode_wav, wav_bytes

pytestmark = pytest.mark.slow


def _jfk(eval_dir: Path) -> tuple[str, bytes]:
    return ("jfk.flac", (eval_dir / "jfk.flac").read_bytes())


def _reference(eval_dir: Path) -> str:
    return (eval_dir / "jfk.ref.txt").read_text()


def test_the_services_own_id_keeps_the_servers_speakers(client: OpenAI, eval_dir: Path) -> None:
    # whisper-1 gives plain text (test_every_format_on_jfk); the service's id diarizes.
    with (eval_dir / "pyannote_sample.wav").open("rb") as f:
        text = client.audio.transcriptions.create(
            model="whisper-base", file=f, response_format="text"
        )
    lines = text.strip().splitlines()
    assert {line.split(":", 1)[0] for line in lines} == {"SPEAKER_00", "SPEAKER_01"}


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json"])
def test_translations_in_every_format(client: OpenAI, eval_dir: Path, fmt: str) -> None:
    out = client.audio.translations.create(
        model="whisper-1",
        file=_jfk(eval_dir),
        response_format=fmt,  # type: ignore[arg-type]
    )
    if fmt == "verbose_json":
        assert out.language == "english" and out.segments  # type: ignore[union-attr]
        assert (out.model_extra or {})["task"] == "translate"
    text = out if isinstance(out, str) else out.text
    assert "SPEAKER" not in text and "<v" not in text
    if fmt in ("json", "text", "verbose_json"):
        assert word_error_rate(_reference(eval_dir), text).wer <= 0.2
    else:
        assert "country" in text


def test_logprobs_keywords_languages_and_chunking(client: OpenAI, eval_dir: Path) -> None:
    reference = _reference(eval_dir)
    out = client.audio.transcriptions.create(
        model="gpt-4o-transcribe",
        file=_jfk(eval_dir),
        include=["logprobs"],
        languages=["en", "fr"],
        keywords=["Americans"],
        prompt="A speech.",
        temperature=0.0,
    )
    assert word_error_rate(reference, out.text).wer <= 0.10
    assert out.logprobs and len(out.logprobs) >= 20
    assert all(p.logprob is not None and p.logprob <= 0 for p in out.logprobs)
    assert "".join(p.token or "" for p in out.logprobs).strip() == out.text
    assert out.languages and out.languages[0].code == "en"
    for strategy in ("auto", {"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 500}):
        chunked = client.audio.transcriptions.create(
            model="whisper-1",
            file=_jfk(eval_dir),
            chunking_strategy=strategy,  # type: ignore[arg-type]
        )
        assert word_error_rate(reference, chunked.text).wer <= 0.10


def test_language_names_tags_and_a_stream_that_fails_first(client: OpenAI, eval_dir: Path) -> None:
    verbose = client.audio.transcriptions.create(
        model="whisper-1", file=_jfk(eval_dir), response_format="verbose_json", language="en-US"
    )
    assert verbose.language == "english"
    with pytest.raises(openai.BadRequestError) as err:
        client.audio.transcriptions.create(
            model="whisper-1", file=_jfk(eval_dir), language="xx", stream=True
        )
    assert err.value.param == "language"


def test_a_diarized_stream(client: OpenAI, eval_dir: Path) -> None:
    with (eval_dir / "pyannote_sample.wav").open("rb") as f:
        events = list(
            client.audio.transcriptions.create(
                model="whisper-1", file=f, response_format="diarized_json", stream=True
            )
        )
    segments = [e for e in events if e.type == "transcript.text.segment"]
    deltas = [e for e in events if e.type == "transcript.text.delta"]
    assert {s.speaker for s in segments} == {"A", "B"}
    assert [d.segment_id for d in deltas] == [s.id for s in segments]
    done = events[-1]
    assert done.type == "transcript.text.done" and done.usage and done.usage.input_tokens > 0


def test_status_codes_and_headers(client: OpenAI, running_server: Server) -> None:
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("unknown")
    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=("tone.wav", wav_bytes(1))
    )
    request_id = raw.headers["x-request-id"]
    assert request_id.startswith("req_")
    time.sleep(0.2)  # the access log line is written as the response starts
    lines = [line for line in running_server.log_text().splitlines() if request_id in line]
    assert any("access" in line and "200" in line for line in lines), lines
    with pytest.raises(openai.BadRequestError) as err:
        client.audio.transcriptions.create(model="whisper-1", file=("blip.wav", wav_bytes(0.002)))
    assert err.value.code == "audio_too_short"
    wrong = httpx.get(f"{running_server.base}/v1/audio/translations")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.headers["x-request-id"] and wrong.json()["error"]["type"]


def _lines_of(server: Server, request_id: str) -> list[str]:
    # Text log lines carry "[REQUEST_ID]", or "[REQUEST_ID JOB_ID]" while a job runs.
    tags = (f"[{request_id}]", f"[{request_id} ")
    return [line for line in server.log_text().splitlines() if any(t in line for t in tags)]


def _wait_for(server: Server, request_id: str, text: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not any(text in line for line in _lines_of(server, request_id)):
        assert time.monotonic() < deadline, (text, _lines_of(server, request_id))
        time.sleep(0.5)


def test_a_client_that_gives_up_cancels_its_work(running_server: Server, eval_dir: Path) -> None:
    call = load_clip(eval_dir / "pyannote_sample.wav").samples
    # Ten minutes of audio: three batches of Whisper windows, so the server is still working
    # when the client leaves (a cancel is seen between batches, when segments come out).
    long_call = encode_wav(np.concatenate([call] * 20))
    impatient = OpenAI(base_url=f"{running_server.base}/v1", api_key="x", timeout=3, max_retries=0)
    with pytest.raises(openai.APITimeoutError):
        impatient.audio.transcriptions.create(
            model="whisper-1",
            file=("long.wav", io.BytesIO(long_call)),
            extra_headers={"x-request-id": "e2e-abandoned"},
        )
    # It stops after the window being decoded (seconds on an idle machine), never finishing.
    _wait_for(running_server, "e2e-abandoned", "transcription cancelled: The client closed")
    assert not any(
        "transcribe 600.0 s" in line for line in _lines_of(running_server, "e2e-abandoned")
    )

    # A stream the client closes after its first event stops too.
    patient = OpenAI(base_url=f"{running_server.base}/v1", api_key="x", timeout=300)
    stream = patient.audio.transcriptions.create(
        model="whisper-1",
        file=("long.wav", io.BytesIO(long_call)),
        stream=True,
        extra_headers={"x-request-id": "e2e-closed-stream"},
    )
    first = next(iter(stream))
    assert first.type == "transcript.text.delta"
    stream.close()
    _wait_for(running_server, "e2e-closed-stream", "transcription cancelled: The client closed")
