import json
import math

from scribe.api import formats
from scribe.domain.insights import Entity, Paragraph, Sentence, Sentiment
from scribe.domain.options import Task, TranscriptionOptions
from scribe.domain.response_format import ResponseFormat
from scribe.domain.transcript import Segment, Transcript, Word

SEGMENTS = (
    Segment(
        0,
        0.0,
        1.5,
        " Hello there.",
        (
            Word(0.0, 0.6, " Hello", speaker="SPEAKER_00"),
            Word(0.7, 1.5, " there.", speaker="SPEAKER_00"),
        ),
        "SPEAKER_00",
    ),
    Segment(1, 1.5, 3723.4567, " Fine --> thanks.", (Word(1.6, 3723.4567, " Fine"),), "SPEAKER_01"),
    Segment(2, 3723.5, 3724.0, " And you?", (), "SPEAKER_01"),
)
T = Transcript("en", 3724.0, SEGMENTS, speakers=("SPEAKER_00", "SPEAKER_01"))


def test_srt_numbers_cues_and_names_speakers() -> None:
    srt = formats.to_srt(T)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\nSPEAKER_00: Hello there.\n")
    assert "2\n00:00:01,500 --> 01:02:03,457\nSPEAKER_01: Fine --> thanks.\n" in srt


def test_vtt_uses_voice_tags_and_escapes_arrows() -> None:
    vtt = formats.to_vtt(T)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n<v SPEAKER_00>Hello there.\n")
    assert "<v SPEAKER_01>Fine -> thanks." in vtt


def test_text_has_one_line_per_speaker_turn() -> None:
    assert formats.to_text(T) == "SPEAKER_00: Hello there.\nSPEAKER_01: Fine --> thanks. And you?\n"


def test_text_without_speakers_is_plain() -> None:
    plain = Transcript("en", 2.0, tuple(Segment(s.id, s.start, s.end, s.text) for s in SEGMENTS))
    assert formats.to_text(plain) == "Hello there. Fine --> thanks. And you?\n"
    assert "SPEAKER" not in formats.to_srt(plain)


def test_paragraphs_are_separated_by_blank_lines() -> None:
    paragraphs = (
        Paragraph(0, 1.5, "Hello there.", (Sentence(0, 1.5, "Hello there."),), "SPEAKER_00"),
        Paragraph(
            1.5, 3724, "Fine. And you?", (Sentence(1.5, 3724, "Fine. And you?"),), "SPEAKER_01"
        ),
    )
    t = Transcript("en", 3724.0, SEGMENTS, T.speakers, paragraphs=paragraphs)
    assert formats.to_text(t) == "SPEAKER_00: Hello there.\n\nSPEAKER_01: Fine. And you?\n"


def test_verbose_json_has_speakers_words_and_insights_when_asked() -> None:
    t = Transcript(
        "en",
        3724.0,
        SEGMENTS,
        T.speakers,
        entities=(Entity("PERSON", "Diane", 0.1, 0.5, "SPEAKER_00"),),
        sentiment=Sentiment("positive", 0.6),
        segment_sentiments=(Sentiment("positive", 0.6, 0.0, 1.5, "SPEAKER_00", "Hello there."),),
    )
    words = TranscriptionOptions(word_timestamps=True)
    body = json.loads(formats.render(t, ResponseFormat.VERBOSE_JSON, words))
    assert body["task"] == "transcribe" and body["language"] == "english"
    assert body["segments"][1]["speaker"] == "SPEAKER_01"
    assert body["words"][0] == {
        "word": "Hello",
        "start": 0.0,
        "end": 0.6,
        "speaker": "SPEAKER_00",
        "probability": 1.0,
    }
    assert body["entities"][0]["text"] == "Diane"
    assert body["sentiment"]["overall"]["label"] == "positive"
    assert "paragraphs" not in body
    plain = json.loads(formats.render(T, ResponseFormat.VERBOSE_JSON))
    assert "words" not in plain and "entities" not in plain
    words_only = TranscriptionOptions(word_timestamps=True, segment_timestamps=False)
    only = json.loads(formats.render(T, ResponseFormat.VERBOSE_JSON, words_only))
    assert only["segments"] == [] and only["words"]


def test_a_translation_is_in_english_whatever_was_spoken() -> None:
    t = Transcript("de", 2.0, SEGMENTS[:1], task=Task.TRANSLATE)
    body = json.loads(formats.render(t, ResponseFormat.VERBOSE_JSON))
    assert body["task"] == "translate" and body["language"] == "english"
    german = Transcript("de", 2.0, SEGMENTS[:1])
    assert json.loads(formats.render(german, ResponseFormat.VERBOSE_JSON))["language"] == "german"


def test_diarized_json_follows_openai_shape() -> None:
    body = json.loads(formats.render(T, ResponseFormat.DIARIZED_JSON))
    assert body["segments"][0] == {
        "type": "transcript.text.segment",
        "id": "seg_0",
        "start": 0.0,
        "end": 1.5,
        "text": "Hello there.",
        "speaker": "A",
    }
    assert [s["speaker"] for s in body["segments"]] == ["A", "B", "B"]


def test_diarized_json_keeps_known_names() -> None:
    named = Transcript("en", 3724.0, (SEGMENTS[0], replace_speaker(SEGMENTS[1], "Ada")))
    body = json.loads(formats.render(named, ResponseFormat.DIARIZED_JSON))
    assert [s["speaker"] for s in body["segments"]] == ["A", "Ada"]


def replace_speaker(segment: Segment, speaker: str) -> Segment:
    from dataclasses import replace

    return replace(segment, speaker=speaker)


def test_json_has_logprobs_and_languages_only_when_asked() -> None:
    assert set(json.loads(formats.render(T, ResponseFormat.JSON))) == {"text", "usage"}
    asked = TranscriptionOptions(logprobs=True, languages=("en", "fr"))
    body = json.loads(formats.render(T, ResponseFormat.JSON, asked))
    assert body["languages"] == [{"code": "en"}]
    assert body["logprobs"][0] == {"token": " Hello", "bytes": list(b" Hello"), "logprob": 0.0}
    assert len(body["logprobs"]) == len(T.words)


def test_stream_events_are_sse_lines() -> None:
    first = formats.delta_event(SEGMENTS[0], True)
    assert first.startswith("data: ") and first.endswith("\n\n")
    assert json.loads(first[6:]) == {
        "type": "transcript.text.delta",
        "delta": "Hello there.",
        "segment_id": "seg_0",
    }
    assert json.loads(formats.delta_event(SEGMENTS[2], False)[6:])["delta"] == " And you?"
    assert json.loads(formats.segment_event(SEGMENTS[1])[6:])["speaker"] == "B"
    done = json.loads(formats.done_event(T)[6:])
    assert done["text"] == T.text
    usage = done["usage"]
    assert usage["type"] == "tokens" and usage["seconds"] == 3724.0
    assert usage["input_tokens"] == 3724 * formats.AUDIO_TOKENS_PER_SECOND
    assert usage["output_tokens"] == 7  # words, as the segments carry no tokens
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_stream_logprobs_come_from_word_probabilities() -> None:
    segment = Segment(0, 0.0, 1.0, " Hi.", (Word(0.0, 1.0, " Hi.", probability=0.5),))
    delta = json.loads(formats.delta_event(segment, True, TranscriptionOptions(logprobs=True))[6:])
    assert delta["logprobs"] == [
        {"token": " Hi.", "bytes": list(b" Hi."), "logprob": round(math.log(0.5), 4)}
    ]
