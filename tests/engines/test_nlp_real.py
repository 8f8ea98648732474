"""Entities, paragraphs and sentiment with the real spaCy model and VADER lexicon.

The transcript is built from the human reference of pyannote_sample.wav (``.stm``: one line per
utterance with speaker and times), each line's words spread evenly over its time span, so these
tests do not depend on the ASR engine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import groupby
from pathlib import Path

import pytest

from scribe.adapters.nlp.paragraphs import ParagraphDetector
from scribe.adapters.nlp.spacy_entities import SpacyEntityRecognizer
from scribe.adapters.nlp.vader_sentiment import VaderSentimentAnalyzer
from scribe.domain.errors import ModelUnavailable
from scribe.domain.insights import Entity
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import Segment, Transcript, Word

pytestmark = pytest.mark.slow

ALL = TranscriptionOptions(detect_paragraphs=True, detect_entities=True, detect_sentiment=True)


@dataclass(frozen=True)
class Line:
    speaker: str
    start: float
    end: float
    text: str


def read_stm(path: Path) -> list[Line]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith(";;"):
            continue
        _file, _channel, speaker, start, end, text = raw.split(maxsplit=5)
        lines.append(Line(speaker, float(start), float(end), text))
    return lines


def transcript_of(lines: list[Line]) -> Transcript:
    segments = []
    for i, line in enumerate(lines):
        tokens = line.text.split()
        step = (line.end - line.start) / len(tokens)
        words = tuple(
            Word(line.start + k * step, line.start + (k + 1) * step, " " + t, speaker=line.speaker)
            for k, t in enumerate(tokens)
        )
        segments.append(Segment(i, line.start, line.end, " " + line.text, words, line.speaker))
    return Transcript(
        "en", lines[-1].end, tuple(segments), tuple(sorted({x.speaker for x in lines}))
    )


@pytest.fixture(scope="module")
def lines(eval_dir: Path) -> list[Line]:
    return read_stm(eval_dir / "pyannote_sample.stm")


@pytest.fixture(scope="module")
def sample(lines: list[Line]) -> Transcript:
    return transcript_of(lines)


def test_entities_are_timed_and_attributed(lines: list[Line], sample: Transcript) -> None:
    recognizer = SpacyEntityRecognizer()
    assert recognizer.wanted(ALL) and not recognizer.wanted(TranscriptionOptions())
    result = recognizer.apply(sample, ALL)
    assert result.entities is not None
    found: list[Entity] = list(result.entities)
    expected = {"Diane": {"PERSON"}, "Sheila": {"PERSON"}}
    expected |= {place: {"GPE", "LOC"} for place in ("New Jersey", "Texas", "Chicago")}
    checked = 0
    for line in lines:
        for name, labels in expected.items():
            if name not in line.text:
                continue
            checked += 1
            hits = [
                e
                for e in found
                if e.text == name and line.start <= e.start < e.end <= line.end + 1e-6
            ]
            assert hits, f"{name} not found in {line}; found {found}"
            assert hits[0].label in labels
            assert hits[0].speaker == line.speaker
    assert checked >= 8  # Diane, Sheila, 3x New Jersey, Texas, 2x Chicago
    assert all(sum(ch.isalnum() for ch in e.text) >= 2 for e in found)  # no lone "I."
    # An entity of several words is timed from its first word's start to its last word's end.
    jersey = next(e for e in found if e.text == "New Jersey")
    words = [w for w in sample.words if jersey.start <= w.start < jersey.end]
    assert [w.text.strip(" .") for w in words] == ["New", "Jersey"]
    assert jersey.end == words[-1].end
    # ``labels`` keeps only the kinds asked for.
    people = SpacyEntityRecognizer(labels=["PERSON"]).find(sample.segments)
    assert {e.text for e in people} >= {"Diane", "Sheila"}
    assert {e.label for e in people} == {"PERSON"}


def test_entities_never_span_two_speakers() -> None:
    first: tuple[Word, ...] = (
        Word(0.0, 0.4, " I", speaker="A"),
        Word(0.4, 0.8, " met", speaker="A"),
    )
    first += (Word(0.8, 1.2, " John", speaker="A"),)
    second = (Word(1.3, 1.7, " Smith", speaker="B"), Word(1.7, 2.0, " agreed.", speaker="B"))
    one_speaker = (
        Segment(0, 0.0, 1.2, " I met John", first, "A"),
        Segment(1, 1.3, 2.0, " Smith agreed.", tuple(w.with_speaker("A") for w in second), "A"),
    )
    recognizer = SpacyEntityRecognizer()
    # Consecutive segments of one speaker are read together, so a name may cross them ...
    assert ("John Smith", 0.8, 1.7, "A") in [
        (e.text, e.start, e.end, e.speaker) for e in recognizer.find(one_speaker)
    ]
    # ... but never a speaker change.
    two_speakers = (one_speaker[0], replace(one_speaker[1], words=second, speaker="B"))
    entities = recognizer.find(two_speakers)
    assert ("John", "A") in [(e.text, e.speaker) for e in entities]
    all_words = first + second
    for entity in entities:
        spoken = [w for w in all_words if entity.start <= w.start < entity.end]
        assert {w.speaker for w in spoken} == {entity.speaker}


def test_entities_without_word_timestamps(sample: Transcript) -> None:
    bare = replace(sample, segments=tuple(replace(s, words=()) for s in sample.segments))
    entities = SpacyEntityRecognizer().find(bare.segments)
    texas = next(e for e in entities if e.text == "Texas")
    line = next(s for s in bare.segments if "Texas" in s.text)
    assert line.start < texas.start < texas.end < line.end
    assert texas.speaker == line.speaker


def test_unknown_spacy_model_is_model_unavailable() -> None:
    with pytest.raises(ModelUnavailable, match="no_such_spacy_model"):
        SpacyEntityRecognizer("no_such_spacy_model").load()


def test_paragraphs_break_at_speaker_changes(lines: list[Line], sample: Transcript) -> None:
    result = ParagraphDetector(pause_seconds=1.5, max_sentences=6).apply(sample, ALL)
    assert result.paragraphs is not None
    turns = [list(group) for _, group in groupby(lines, key=lambda x: x.speaker)]
    # No pause in this call reaches 1.5 s and no turn has six sentences: one paragraph per turn.
    assert [p.speaker for p in result.paragraphs] == [turn[0].speaker for turn in turns]
    assert [p.start for p in result.paragraphs] == [turn[0].start for turn in turns]
    assert [p.end for p in result.paragraphs] == pytest.approx([turn[-1].end for turn in turns])
    assert [p.text for p in result.paragraphs] == [" ".join(x.text for x in t) for t in turns]


def test_sentiment_signs(sample: Transcript) -> None:
    extra = (
        Segment(90, 30.0, 33.0, " I love this, it is wonderful and works great!", speaker="Diane"),
        Segment(91, 33.5, 36.0, " This is terrible. I hate it, it is awful.", speaker="Sheila"),
    )
    t = replace(sample, segments=sample.segments + extra)
    analyzer = VaderSentimentAnalyzer()
    assert analyzer.wanted(ALL) and not analyzer.wanted(TranscriptionOptions())
    per_segment = analyzer.apply(t, ALL)
    scores = per_segment.segment_sentiments
    assert scores is not None and len(scores) == len(t.segments)
    positive, negative = scores[-2], scores[-1]
    assert (positive.label, positive.speaker, positive.start) == ("positive", "Diane", 30.0)
    assert positive.score > 0.5
    assert (negative.label, negative.speaker, negative.end) == ("negative", "Sheila", 36.0)
    assert negative.score < -0.5
    # The overall score is the word-count-weighted mean of the parts.
    weights = [len((s.text or "").split()) for s in scores]
    mean = sum(s.score * w for s, w in zip(scores, weights, strict=True)) / sum(weights)
    assert per_segment.sentiment is not None
    assert per_segment.sentiment.score == pytest.approx(mean, abs=1e-4)

    # With paragraphs, each paragraph gets one score.
    with_paragraphs = ParagraphDetector(1.5, 6).apply(t, ALL)
    by_paragraph = analyzer.apply(with_paragraphs, ALL)
    assert with_paragraphs.paragraphs is not None and by_paragraph.segment_sentiments is not None
    assert [s.text for s in by_paragraph.segment_sentiments] == [
        p.text for p in with_paragraphs.paragraphs
    ]
