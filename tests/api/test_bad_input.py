"""Every input of the bad-input corpus gets a clear answer in OpenAI's shape (never a 5xx, never a
stack trace), and the service stays healthy after each (tests/bad_input_corpus.py)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.bad_input_corpus import Case, cases, client_for, run_case, silent_flac
from tests.fakes import wav_bytes

CASES = [case for case in cases() if not case.own_test]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with client_for() as c:
        yield c


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else []) for c in CASES],
)
def test_bad_input(client: TestClient, case: Case, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        status, code, response = run_case(client, case)
    assert status == case.status, response.text[:500]
    if status >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"]
        if case.code is not None:
            assert code == case.code
    elif case.text is not None:
        assert response.json()["text"] == case.text
    assert "Traceback" not in response.text and "Traceback" not in caplog.text
    # Healthy afterwards: liveness, and a normal request still works.
    assert client.get("/health").status_code == 200
    ok = client.post(
        "/v1/audio/transcriptions", files={"file": ("a.wav", wav_bytes(2), "audio/wav")}
    )
    assert ok.status_code == 200


@pytest.mark.slow
def test_two_hours_of_silence_give_empty_text_with_the_real_whisper_engine() -> None:
    """The real decoder and the real faster-whisper adapter (which skips digital silence)."""
    from scribe.bootstrap import build_services
    from scribe.config import Settings
    from scribe.use_cases.options import TranscriptionRequest

    services = build_services(Settings(diarizer="none", device="cpu"))
    services.warm_up.run()
    services.warm_up.require_ready()
    audio = services.transcribe.decode(io.BytesIO(silent_flac(7200)))
    assert audio.duration == 7200.0
    options = services.options.build(TranscriptionRequest(diarize=False))
    transcript = services.transcribe.transcribe(audio, options)
    assert transcript.text == "" and transcript.segments == ()
