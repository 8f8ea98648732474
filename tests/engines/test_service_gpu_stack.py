"""The production engines behind the real API: SCRIBE_ASR_ENGINE=nemo with a local .nemo and
SCRIBE_DIARIZER=pyannote with a local pipeline folder, both tiny random-weight models built here
and loaded through the same paths a user's real models take. Output words are meaningless, so
these tests check structure and wiring in every format, with and without diarization."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt
from fastapi.testclient import TestClient

from tests.clips import load_clip

if importlib.util.find_spec("nemo") is None or importlib.util.find_spec("pyannote.audio") is None:
    pytest.skip("needs the [gpu] extra (NeMo and pyannote.audio)", allow_module_level=True)

from scribe.api.app import create_app
from scribe.bootstrap import build_services
from scribe.config import Settings
from scribe.devtools.nemo_models import build_tiny_parakeet
from scribe.devtools.pyannote_models import build_tiny_pyannote_pipeline
from tests.fakes import encode_wav

pytestmark = [pytest.mark.slow, pytest.mark.gpu_stack]
URL = "/v1/audio/transcriptions"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("gpu-stack")
    settings = Settings(
        asr_engine="nemo,whisper",
        nemo_model=str(build_tiny_parakeet(root / "nemo")),
        diarizer="pyannote",
        pyannote_pipeline=str(build_tiny_pyannote_pipeline(root / "pyannote")),
        device="cpu",
    )
    services = build_services(settings)
    services.warm_up.run()
    assert services.warm_up.error is None, services.warm_up.error
    with TestClient(create_app(services)) as c:
        yield c


@pytest.fixture(scope="module")
def clip(eval_dir: Path) -> bytes:
    """The first 12 s of the two-speaker telephone call, as WAV."""
    return encode_wav(load_clip(eval_dir / "pyannote_sample.wav", seconds=12).samples)


def post(client: TestClient, clip: bytes, **data: Any) -> Any:
    response = client.post(
        URL, data={"model": "parakeet_tdt_tiny", **data}, files={"file": ("c.wav", clip)}
    )
    assert response.status_code == 200, response.text
    return response


def test_models_list_both_engines_nemo_first(client: TestClient) -> None:
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert ids[:2] == ["parakeet_tdt_tiny", "whisper-base"]


def test_verbose_json_has_speakers_on_segments_and_words(client: TestClient, clip: bytes) -> None:
    body = post(
        client,
        clip,
        response_format="verbose_json",
        **{"timestamp_granularities[]": ["word", "segment"]},
    ).json()
    assert body["duration"] == pytest.approx(12.0, abs=0.01)
    for segment in body["segments"]:
        assert segment["speaker"].startswith("SPEAKER_")
        assert 0 <= segment["start"] <= segment["end"] <= body["duration"]
    for word in body["words"]:
        assert word["speaker"].startswith("SPEAKER_")
        assert 0 <= word["start"] <= word["end"] <= body["duration"]


def test_without_diarization_there_are_no_speakers(client: TestClient, clip: bytes) -> None:
    body = post(client, clip, response_format="verbose_json", diarize="false").json()
    assert "speakers" not in body and all(s.get("speaker") is None for s in body["segments"])


@pytest.mark.parametrize("diarize", ["true", "false"])
def test_every_format(client: TestClient, clip: bytes, diarize: str) -> None:
    assert isinstance(post(client, clip, diarize=diarize).json()["text"], str)
    list(srt.parse(post(client, clip, response_format="srt", diarize=diarize).text))
    webvtt.from_buffer(io.StringIO(post(client, clip, response_format="vtt", diarize=diarize).text))
    assert isinstance(post(client, clip, response_format="text", diarize=diarize).text, str)
    diarized = post(client, clip, response_format="diarized_json").json()
    assert all(s["type"] == "transcript.text.segment" for s in diarized["segments"])
    with client.stream(
        "POST",
        URL,
        data={"model": "parakeet_tdt_tiny", "stream": "true", "diarize": diarize},
        files={"file": ("c.wav", clip)},
    ) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1]["type"] == "transcript.text.done"


def test_the_whisper_engine_is_selectable_by_model(client: TestClient, clip: bytes) -> None:
    body = post(client, clip, model="whisper-base", diarize="false").json()
    assert "hello" in body["text"].lower()


def test_unknown_model_lists_the_choices(client: TestClient, clip: bytes) -> None:
    response = client.post(URL, data={"model": "parakeet-xxl"}, files={"file": ("c.wav", clip)})
    assert response.status_code == 400
    assert "parakeet_tdt_tiny" in response.json()["error"]["message"]
