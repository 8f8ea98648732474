"""End to end: start `scribe serve` as a user would and call it with the official openai SDK."""

from __future__ import annotations

import io
from itertools import groupby
from pathlib import Path

import httpx
import pytest
import srt
import webvtt
from openai import OpenAI

from scribe.evaluation import word_error_rate

pytestmark = pytest.mark.slow


def _reference(eval_dir: Path, name: str) -> str:
    return (eval_dir / name).read_text()


def test_every_format_on_jfk(client: OpenAI, eval_dir: Path) -> None:
    audio = (eval_dir / "jfk.flac").read_bytes()
    reference = _reference(eval_dir, "jfk.ref.txt")

    def create(**kwargs: object) -> object:
        return client.audio.transcriptions.create(
            model="whisper-1",
            file=("jfk.flac", io.BytesIO(audio)),
            **kwargs,  # type: ignore[arg-type]
        )

    plain = create()
    assert word_error_rate(reference, plain.text).wer <= 0.10  # type: ignore[attr-defined]

    verbose = create(response_format="verbose_json", timestamp_granularities=["word", "segment"])
    assert word_error_rate(reference, verbose.text).wer <= 0.10  # type: ignore[attr-defined]
    words = verbose.words  # type: ignore[attr-defined]
    assert words and all(0 <= w.start <= w.end <= verbose.duration + 0.01 for w in words)  # type: ignore[attr-defined]
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert verbose.segments and verbose.language == "english"  # type: ignore[attr-defined]

    # whisper-1 behaves as OpenAI's: plain text and subtitles, no speakers.
    text = create(response_format="text")
    assert isinstance(text, str) and "SPEAKER" not in text
    assert word_error_rate(reference, text).wer <= 0.10

    subtitles = list(srt.parse(create(response_format="srt")))  # type: ignore[arg-type]
    assert subtitles and not any("SPEAKER" in s.content for s in subtitles)
    assert word_error_rate(reference, " ".join(s.content for s in subtitles)).wer <= 0.10
    starts = [s.start for s in subtitles]
    assert starts == sorted(starts) and all(s.start < s.end for s in subtitles)

    captions = webvtt.from_buffer(io.StringIO(create(response_format="vtt")))  # type: ignore[arg-type]
    assert len(captions) == len(subtitles)
    assert [c.start_in_seconds for c in captions] == sorted(c.start_in_seconds for c in captions)
    assert not any(c.voice for c in captions)

    diarized = create(response_format="diarized_json")
    assert {s.speaker for s in diarized.segments} == {"A"}  # type: ignore[attr-defined]

    events = list(create(stream=True))  # type: ignore[call-overload]
    assert events[-1].type == "transcript.text.done"
    assert events[-1].usage.type == "tokens" and events[-1].usage.output_tokens > 0
    deltas = [e for e in events if e.type == "transcript.text.delta"]
    assert all(e.segment_id for e in deltas)
    assert not any(e.type == "transcript.text.segment" for e in events)
    assert word_error_rate(reference, "".join(e.delta for e in deltas)).wer <= 0.10


def test_librispeech_flac(client: OpenAI, eval_dir: Path) -> None:
    with (eval_dir / "librispeech_2412-153948-0000.flac").open("rb") as f:
        result = client.audio.transcriptions.create(model="whisper-1", file=f, language="en")
    assert (
        word_error_rate(
            _reference(eval_dir, "librispeech_2412-153948-0000.ref.txt"), result.text
        ).wer
        <= 0.15
    )


def test_two_speakers_on_the_telephone_call(client: OpenAI, eval_dir: Path) -> None:
    with (eval_dir / "pyannote_sample.wav").open("rb") as f:
        result = client.audio.transcriptions.create(
            model="gpt-4o-transcribe-diarize",
            file=f,
            response_format="diarized_json",  # type: ignore[call-overload]
        )
    speakers = [s.speaker for s in result.segments]
    assert set(speakers) == {"A", "B"} and speakers[0] == "A"


def test_bad_input_gets_a_clear_400_and_the_server_keeps_working(
    client: OpenAI, server: str, eval_dir: Path
) -> None:
    response = httpx.post(
        f"{server}/v1/audio/transcriptions",
        files={"file": ("notes.txt", b"hello, not audio")},
        timeout=30,
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "file"
    big = httpx.post(
        f"{server}/v1/audio/transcriptions",
        files={"file": ("big.wav", b"\0" * (21 * 1024 * 1024))},
        timeout=30,
    )
    assert big.status_code == 413
    assert httpx.get(f"{server}/health/ready").status_code == 200


def test_paragraphs_entities_and_sentiment_through_the_sdk(client: OpenAI, eval_dir: Path) -> None:
    with (eval_dir / "pyannote_sample.wav").open("rb") as f:
        result = client.audio.transcriptions.create(
            model="whisper-base",  # the service's own id: speakers by the server's default
            file=f,
            response_format="verbose_json",
            extra_body={
                "detect_paragraphs": True,
                "detect_entities": True,
                "detect_sentiment": True,
            },
        )
    extra = result.model_extra or {}
    paragraphs = extra["paragraphs"]
    assert len({p["speaker"] for p in paragraphs}) == 2
    # every speaker change starts a new paragraph
    turns = [k for k, _ in groupby(s.speaker for s in result.segments)]  # type: ignore[attr-defined]
    assert len(paragraphs) >= len(turns)
    assert [k for k, _ in groupby(p["speaker"] for p in paragraphs)] == turns
    found = {e["text"]: e for e in extra["entities"]}
    assert {"Diane", "New Jersey", "Chicago"} <= set(found)
    for entity in found.values():
        assert entity["speaker"] in {"SPEAKER_00", "SPEAKER_01"}  # verbose_json's own labels
        assert 0 <= entity["start"] <= entity["end"] <= result.duration
    assert extra["sentiment"]["overall"]["label"] in {"positive", "negative", "neutral"}
    assert len(extra["sentiment"]["segments"]) == len(paragraphs)


def test_known_speakers_are_named_by_voice(client: OpenAI, eval_dir: Path) -> None:
    import base64

    from tests.clips import load_clip
    from tests.fakes import encode_wav

    audio = load_clip(eval_dir / "pyannote_sample.wav")

    def reference(start: float, end: float) -> str:
        clip = encode_wav(audio.slice(start, end).samples)
        return "data:audio/wav;base64," + base64.b64encode(clip).decode()

    # From the reference turns: Diane talks alone 10.8-14.4 s, Sheila 22.0-28.0 s.
    with (eval_dir / "pyannote_sample.wav").open("rb") as f:
        result = client.audio.transcriptions.create(
            model="whisper-1",
            file=f,
            response_format="diarized_json",  # type: ignore[call-overload]
            known_speaker_names=["Diane", "Sheila"],
            known_speaker_references=[reference(10.8, 14.4), reference(22.0, 28.0)],
        )
    said = {s.speaker: s.text.lower() for s in result.segments}
    assert set(said) == {"Diane", "Sheila"}
    speaker_of = {
        "this is diane": "Diane",
        "i'm sheila": "Sheila",
    }
    for phrase, name in speaker_of.items():
        owners = {s.speaker for s in result.segments if phrase in s.text.lower()}
        assert owners == {name}, (phrase, owners)
