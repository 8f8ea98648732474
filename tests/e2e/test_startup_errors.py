"""`scribe serve` with a model it cannot have stops at once with one clear message (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _serve(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scribe.cli", "serve", "--port", "0"],
        env={**os.environ, "HF_HUB_OFFLINE": "1", "SCRIBE_DIARIZER": "none", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_whisper_model_folder() -> None:
    result = _serve(SCRIBE_WHISPER_MODEL="/nonexistent/whisper-model")
    assert result.returncode == 2
    assert "scribe: cannot start:" in result.stderr
    assert "/nonexistent/whisper-model" in result.stderr


def test_hub_model_without_downloads_names_the_settings() -> None:
    result = _serve(SCRIBE_WHISPER_MODEL="Systran/faster-whisper-large-v3")
    assert result.returncode == 2
    assert "SCRIBE_ALLOW_DOWNLOADS" in result.stderr


@pytest.mark.skipif(
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import ctranslate2,sys; sys.exit(ctranslate2.get_cuda_device_count())",
        ]
    ).returncode
    != 0,
    reason="a CUDA GPU is present",
)
def test_cuda_asked_for_on_a_machine_without_it() -> None:
    result = _serve(SCRIBE_DEVICE="cuda")
    assert result.returncode == 2
    assert "SCRIBE_DEVICE=cuda" in result.stderr and "SCRIBE_ALLOW_CPU_FALLBACK" in result.stderr


def test_invalid_text_rules_file_names_the_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rule_sets:\n  house:\n    - shout: {}\n")
    result = _serve(SCRIBE_TEXT_RULES_FILE=str(rules))
    assert result.returncode == 2
    assert "line 3" in result.stderr
