"""The `scribe` command as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import srt

from scribe.evaluation import word_error_rate


def _scribe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scribe.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_help_explains_the_commands() -> None:
    result = _scribe("--help")
    assert result.returncode == 0
    for word in ("serve", "transcribe", "eval", "SCRIBE_"):
        assert word in result.stdout
    transcribe = _scribe("transcribe", "--help")
    assert "--format" in transcribe.stdout and "--num-speakers" in transcribe.stdout


@pytest.mark.slow
def test_transcribe_a_file_to_srt(eval_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "jfk.srt"
    result = _scribe("transcribe", str(eval_dir / "jfk.flac"), "--format", "srt", "-o", str(out))
    assert result.returncode == 0, result.stderr
    cues = list(srt.parse(out.read_text()))
    text = " ".join(c.content.split(": ", 1)[-1] for c in cues)
    assert word_error_rate((eval_dir / "jfk.ref.txt").read_text(), text).wer <= 0.10
    assert all(c.content.startswith("SPEAKER_00: ") for c in cues)


@pytest.mark.slow
def test_transcribe_with_speakers_and_insights(eval_dir: Path) -> None:
    result = _scribe(
        "transcribe",
        str(eval_dir / "pyannote_sample.wav"),
        "--format",
        "verbose_json",
        "--num-speakers",
        "2",
        "--paragraphs",
        "--entities",
        "--sentiment",
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
    assert {"Diane", "Sheila"} <= {e["text"] for e in body["entities"]}
    assert body["paragraphs"] and body["sentiment"]["overall"]["label"]


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = _scribe("transcribe", str(tmp_path / "nope.wav"))
    assert result.returncode == 2 and "no such file" in result.stderr


def test_a_non_audio_file_is_a_clear_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio at all")
    result = _scribe("transcribe", str(notes), "--no-diarize")
    assert result.returncode == 2 and "scribe:" in result.stderr


@pytest.mark.slow
def test_eval_scores_a_manifest(eval_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.txt"
    result = _scribe(
        "eval", str(eval_dir / "manifest.json"), "--only", "pyannote_sample", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("pyannote_sample"))
    cells = row.split()
    # dur, speakers ref/hyp, WER, DER (collar), DER (none), speaker words, RTF
    assert cells[2] == "2/2"
    wer_, der, word_accuracy = (float(c.rstrip("%")) for c in (cells[3], cells[4], cells[6]))
    assert wer_ < 30 and der <= 10 and word_accuracy >= 90
    assert out.read_text().strip() == result.stdout.strip()


@pytest.mark.slow
def test_translate_a_file(eval_dir: Path) -> None:
    result = _scribe(
        "transcribe", str(eval_dir / "jfk.flac"), "--task", "translate", "--format", "verbose_json"
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["task"] == "translate" and body["language"] == "english"
    assert word_error_rate((eval_dir / "jfk.ref.txt").read_text(), body["text"]).wer <= 0.2
