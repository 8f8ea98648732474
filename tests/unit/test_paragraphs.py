"""Sentences and paragraphs from timed words."""

from __future__ import annotations

import pytest

from scribe.adapters.nlp.paragraphs import ParagraphDetector
from scribe.domain.options import TranscriptionOptions
from scribe.domain.paragraphs import build_paragraphs, ends_sentence
from scribe.domain.transcript import Segment, Transcript, Word


def words(text: str, start: float, speaker: str | None = "A", step: float = 0.3) -> list[Word]:
    """One word per whitespace-separated token, ``step`` seconds apart, Whisper-style spacing."""
    return [
        Word(start + i * step, start + i * step + step * 0.8, " " + token, speaker=speaker)
        for i, token in enumerate(text.split())
    ]


def transcript(*runs: list[Word]) -> Transcript:
    segments = tuple(
        Segment(i, ws[0].start, ws[-1].end, "".join(w.text for w in ws), tuple(ws), ws[0].speaker)
        for i, ws in enumerate(runs)
    )
    return Transcript("en", segments[-1].end if segments else 0.0, segments)


@pytest.mark.parametrize(
    ("token", "final"),
    [
        ("there.", True),
        ("what?", True),
        ("wow!", True),
        ("well…", True),
        ('"yes."', True),
        ("(really?)", True),
        ("Mr.", False),
        ("Dr.", False),
        ("3.5", False),
        ("so,", False),
        ("hello", False),
    ],
)
def test_sentence_ends(token: str, final: bool) -> None:
    assert ends_sentence(" " + token) is final


def test_sentences_split_at_punctuation_and_paragraph_keeps_one_speaker() -> None:
    t = transcript(words("Hello there. How are you? I am fine!", 0.0))
    (paragraph,) = build_paragraphs(t, pause_seconds=1.5, max_sentences=6)
    assert [s.text for s in paragraph.sentences] == ["Hello there.", "How are you?", "I am fine!"]
    assert paragraph.text == "Hello there. How are you? I am fine!"
    assert paragraph.speaker == "A"
    second = paragraph.sentences[1]
    assert second.start == pytest.approx(2 * 0.3)
    assert second.end == pytest.approx(4 * 0.3 + 0.24)


def test_speaker_change_breaks_paragraph_even_mid_sentence() -> None:
    t = transcript(
        words("Hello. Is that", 0.0, "A"),
        words("Yes it is.", 1.0, "B"),
        words("Good.", 2.0, "A"),
    )
    paragraphs = build_paragraphs(t, pause_seconds=1.5, max_sentences=6)
    assert [(p.speaker, p.text) for p in paragraphs] == [
        ("A", "Hello. Is that"),
        ("B", "Yes it is."),
        ("A", "Good."),
    ]


def test_long_pause_between_sentences_breaks_paragraph() -> None:
    first = words("One sentence here.", 0.0)  # ends at 0.84
    near = words("Still the same.", first[-1].end + 1.4)
    far = words("New paragraph.", near[-1].end + 1.5)
    paragraphs = build_paragraphs(transcript(first, near, far), pause_seconds=1.5, max_sentences=6)
    assert [p.text for p in paragraphs] == [
        "One sentence here. Still the same.",
        "New paragraph.",
    ]
    assert paragraphs[1].start == far[0].start


def test_pause_without_punctuation_ends_a_sentence() -> None:
    first = words("no punctuation at all", 0.0)
    second = words("after a long pause", first[-1].end + 2.0)
    paragraphs = build_paragraphs(transcript(first + second), pause_seconds=1.5, max_sentences=6)
    assert [p.text for p in paragraphs] == ["no punctuation at all", "after a long pause"]


def test_max_sentences_caps_a_paragraph() -> None:
    t = transcript(words("One. Two. Three. Four. Five.", 0.0))
    paragraphs = build_paragraphs(t, pause_seconds=1.5, max_sentences=2)
    assert [len(p.sentences) for p in paragraphs] == [2, 2, 1]
    assert paragraphs[2].text == "Five."


def test_abbreviation_does_not_end_sentence() -> None:
    t = transcript(words("I met Mr. Smith today. He waved.", 0.0))
    (paragraph,) = build_paragraphs(t, pause_seconds=1.5, max_sentences=6)
    assert [s.text for s in paragraph.sentences] == ["I met Mr. Smith today.", "He waved."]


def test_segments_without_words_are_sentences() -> None:
    segments = (
        Segment(0, 0.0, 2.0, " Hello there", speaker="A"),
        Segment(1, 2.2, 4.0, " General Kenobi.", speaker="A"),
        Segment(2, 4.5, 5.0, " Hi.", speaker="B"),
        Segment(3, 5.1, 5.2, "   ", speaker="B"),
    )
    paragraphs = build_paragraphs(Transcript("en", 5.2, segments), 1.5, 6)
    assert [(p.speaker, p.start, p.end) for p in paragraphs] == [("A", 0.0, 4.0), ("B", 4.5, 5.0)]
    assert [s.text for s in paragraphs[0].sentences] == ["Hello there", "General Kenobi."]


def test_empty_transcript_has_no_paragraphs() -> None:
    assert build_paragraphs(Transcript("en", 0.0, ()), 1.5, 6) == ()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="pause_seconds"):
        ParagraphDetector(pause_seconds=0, max_sentences=3)
    with pytest.raises(ValueError, match="max_sentences"):
        ParagraphDetector(pause_seconds=1.0, max_sentences=0)


def test_detector_is_a_post_processor() -> None:
    detector = ParagraphDetector(pause_seconds=1.5, max_sentences=1)
    assert not detector.wanted(TranscriptionOptions())
    assert detector.wanted(TranscriptionOptions(detect_paragraphs=True))
    t = transcript(words("First. Second.", 0.0))
    result = detector.apply(t, TranscriptionOptions(detect_paragraphs=True))
    assert t.paragraphs is None
    assert result.paragraphs is not None
    assert [p.text for p in result.paragraphs] == ["First.", "Second."]
    assert result.segments == t.segments
