"""Scoring functions of scribe.evaluation on small hand-made cases with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scribe.domain.errors import InvalidRequest
from scribe.domain.transcript import Segment, SpeakerTurn, Transcript, Word
from scribe.evaluation import (
    diarization_error_rate,
    evaluate,
    format_report,
    load_manifest,
    normalize_text,
    read_rttm,
    read_uem,
    word_error_rate,
    word_speaker_accuracy,
    write_rttm,
)

pytest.importorskip("pyannote.metrics")
pytest.importorskip("jiwer")

REF = [SpeakerTurn(0.0, 10.0, "alice"), SpeakerTurn(10.0, 20.0, "bob")]


def test_normalize_text_lowercases_and_strips_punctuation() -> None:
    assert normalize_text("  Hello, World! I didn't-know.  ") == "hello world i didnt know"


def test_wer_counts_after_normalisation() -> None:
    assert word_error_rate("Hello, world.", "hello world").wer == 0.0
    score = word_error_rate("the cat sat on the mat", "the cat sat on a mat today")
    assert (score.substitutions, score.deletions, score.insertions) == (1, 0, 1)
    assert score.wer == pytest.approx(2 / 6)
    assert word_error_rate("one two", "").wer == 1.0


def test_der_perfect_hypothesis_is_zero() -> None:
    assert diarization_error_rate(REF, REF, collar=0.0).der == 0.0


def test_der_ignores_label_names() -> None:
    swapped = [SpeakerTurn(0.0, 10.0, "B"), SpeakerTurn(10.0, 20.0, "A")]
    assert diarization_error_rate(REF, swapped, collar=0.0).der == 0.0


def test_der_missing_half_is_fifty_percent() -> None:
    score = diarization_error_rate(REF, REF[:1], uem=[(0.0, 20.0)], collar=0.0)
    assert score.der == pytest.approx(0.5)
    assert score.missed == pytest.approx(10.0)
    assert score.false_alarm == 0.0


def test_der_confusion_and_false_alarm() -> None:
    one_label = [SpeakerTurn(0.0, 20.0, "x")]
    score = diarization_error_rate(REF, one_label, collar=0.0)
    assert score.confusion == pytest.approx(10.0) and score.der == pytest.approx(0.5)
    extra = [*REF, SpeakerTurn(20.0, 25.0, "bob")]
    fa = diarization_error_rate(REF, extra, uem=[(0.0, 30.0)], collar=0.0)
    assert fa.false_alarm == pytest.approx(5.0) and fa.der == pytest.approx(0.25)


def test_der_collar_forgives_boundary_shift() -> None:
    shifted = [SpeakerTurn(0.0, 10.2, "a"), SpeakerTurn(10.2, 20.0, "b")]
    assert diarization_error_rate(REF, shifted, collar=0.0).der > 0.0
    assert diarization_error_rate(REF, shifted, collar=0.5).der == 0.0


def test_der_honours_uem() -> None:
    hyp = [SpeakerTurn(0.0, 10.0, "a")]  # bob missing, but only 0-10 s is scored
    assert diarization_error_rate(REF, hyp, uem=[(0.0, 10.0)], collar=0.0).der == 0.0


def _words(spans: list[tuple[float, float, str | None]]) -> list[Word]:
    return [Word(a, b, " w", speaker=s) for a, b, s in spans]


def test_word_speaker_accuracy_maps_labels_and_skips_gaps_and_overlap() -> None:
    ref = [
        SpeakerTurn(0.0, 4.0, "alice"),
        SpeakerTurn(4.0, 8.0, "bob"),
        SpeakerTurn(7.0, 9.0, "alice"),  # 7-8 s: both talk
    ]
    words = _words(
        [
            (0.0, 1.0, "S1"),
            (1.0, 2.0, "S1"),
            (2.0, 3.0, "S2"),  # wrong
            (4.0, 5.0, "S2"),
            (5.0, 6.0, "S2"),
            (7.2, 7.6, "S1"),  # overlap: skipped
            (8.2, 8.8, "S1"),
            (10.0, 11.0, "S1"),  # nobody talks: skipped
        ]
    )
    score = word_speaker_accuracy(words, ref)
    assert (score.correct, score.scored) == (5, 6)
    assert (score.skipped_overlap, score.skipped_silence) == (1, 1)
    assert score.accuracy == pytest.approx(5 / 6)


def test_word_speaker_accuracy_is_one_to_one() -> None:
    ref = [SpeakerTurn(0.0, 2.0, "alice"), SpeakerTurn(2.0, 4.0, "bob")]
    everyone_s1 = _words([(0.0, 1.0, "S1"), (1.0, 2.0, "S1"), (2.0, 3.0, "S1"), (3.0, 4.0, None)])
    score = word_speaker_accuracy(everyone_s1, ref)
    assert (score.correct, score.scored) == (2, 4)


def test_rttm_and_uem_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "x.rttm"
    path.write_text(write_rttm(REF, "x") + "SPKR-INFO x 1 <NA> <NA> <NA> unknown alice <NA>\n")
    assert read_rttm(path) == REF
    uem = tmp_path / "x.uem"
    uem.write_text("x NA 1.5 20.000\n")
    assert read_uem(uem) == [(1.5, 20.0)]


def _tiny_manifest(tmp_path: Path) -> Path:
    (tmp_path / "a.rttm").write_text(write_rttm(REF, "a"))
    (tmp_path / "a.txt").write_text("Hello world, said Alice.")
    (tmp_path / "a.uem").write_text("a NA 0 20\n")
    manifest = [
        {"id": "a", "audio": "a.wav", "duration_s": 20.0, "speakers": 2,
         "reference_text": "a.txt", "rttm": "a.rttm", "uem": "a.uem"},
        {"id": "b", "audio": "sub/b.flac", "duration_s": 5.0, "reference_text": None},
    ]  # fmt: skip
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def test_load_manifest_resolves_paths(tmp_path: Path) -> None:
    clips = load_manifest(_tiny_manifest(tmp_path))
    assert [c.id for c in clips] == ["a", "b"]
    assert clips[0].rttm == tmp_path / "a.rttm" and clips[1].audio == tmp_path / "sub" / "b.flac"
    assert clips[1].rttm is None and clips[1].reference_text is None
    with pytest.raises(InvalidRequest):
        load_manifest(tmp_path / "missing.json")


def test_evaluate_scores_and_formats(tmp_path: Path) -> None:
    manifest = _tiny_manifest(tmp_path)
    words = (Word(1.0, 1.5, " Hello"), Word(1.5, 2.0, " world"), Word(12.0, 12.5, " said"))
    transcript = Transcript("en", 20.0, (Segment(0, 1.0, 12.5, "Hello world said", words),))
    seen: list[str] = []

    def diarize(path: Path) -> list[SpeakerTurn]:
        seen.append(path.name)
        return [SpeakerTurn(0.0, 10.0, "S0"), SpeakerTurn(10.0, 15.0, "S1")]

    report = evaluate(manifest, transcribe=lambda p: transcript, diarize=diarize)
    assert seen == ["a.wav", "b.flac"]
    a, b = report.clips
    assert a.wer is not None and a.wer.wer == pytest.approx(1 / 4)
    assert a.der_no_collar is not None and a.der_no_collar.der == pytest.approx(0.25)
    # no word carries a speaker: they are attributed to the diarizer's turns first
    assert a.speaker_words is not None and a.speaker_words.accuracy == 1.0
    assert b.wer is None and b.der is None and b.speaker_words is None
    assert report.overall.wer == pytest.approx(1 / 4)
    table = format_report(report)
    lines = table.splitlines()
    assert lines[0].split()[0] == "clip" and "overall" in table
    row_b = next(line for line in lines if line.startswith("b "))
    assert row_b.split()[3:7] == ["-", "-", "-", "-"]
