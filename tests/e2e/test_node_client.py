"""A second real client: the official openai Node SDK (npm) against the real server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from scribe.evaluation import word_error_rate

pytestmark = pytest.mark.slow

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


def test_the_official_node_sdk(server: str, eval_dir: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the Node client test needs Node.js 20 or newer")
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
        pytest.fail("the Node SDK is not installed: run `npm ci --prefix tests/node`")
    result = subprocess.run(
        [
            node,
            "client.mjs",
            f"{server}/v1",
            str(eval_dir / "jfk.flac"),
            str(eval_dir / "pyannote_sample.wav"),
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    reference = (eval_dir / "jfk.ref.txt").read_text()

    assert word_error_rate(reference, out["json"]["text"]).wer <= 0.10
    assert out["json"]["usage"]["type"] == "duration"

    verbose = out["verbose_json"]
    assert verbose["language"] == "english"
    assert verbose["segments"] == 0  # only word timestamps asked for: no segments, as OpenAI
    words = verbose["words"]
    assert len(words) >= 20 and all(0 <= w["start"] <= w["end"] for w in words)
    assert "speaker" not in words[0]  # whisper-1: no speakers unless asked

    speakers = out["diarized_json"]["speakers"]
    assert set(speakers) == {"A", "B"} and speakers[0] == "A"

    events = out["stream"]
    deltas = [e for e in events if e["type"] == "transcript.text.delta"]
    assert deltas and all(d["segment_id"] for d in deltas)
    assert events[-1]["type"] == "transcript.text.done"
    assert events[-1]["usage"]["type"] == "tokens"
    assert not any(e["type"] == "transcript.text.segment" for e in events)

    assert word_error_rate(reference, out["translation"]["text"]).wer <= 0.2

    error = out["error"]
    assert error["class"] == "BadRequestError" and error["status"] == 400
    assert error["param"] == "language" and error["type"] == "invalid_request_error"
    assert error["requestID"].startswith("req_")
