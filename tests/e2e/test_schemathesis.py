"""A bounded schemathesis run against the running service's OpenAPI schema, with a valid key:
whatever it generates, no answer is a 5xx. Also what the real server (uvicorn) does with
oversized headers, which a test client never shows."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.serving import start_serve, stop
from tests.services import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`scribe serve` (Whisper, no diarizer) on its own data directory, and an admin key."""
    root = tmp_path_factory.mktemp("schemathesis")
    env = {
        **os.environ,
        "SCRIBE_DATA_DIR": str(root / "data"),
        "SCRIBE_PORT": str(free_port()),
        "SCRIBE_HOST": "127.0.0.1",
        "SCRIBE_DEVICE": "cpu",
        "SCRIBE_DIARIZER": "none",
        "SCRIBE_MAX_UPLOAD_MB": "5",
        "SCRIBE_MAX_DECODE_SECONDS": "20",
        "HF_HUB_OFFLINE": "1",
    }
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "scribe.cli",
            "keys",
            "create",
            "--name",
            "schemathesis",
            "--scope",
            "admin",
            "--rpm",
            "0",
            "--audio-minutes-per-hour",
            "0",
            "--concurrency",
            "0",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key = created.stdout.strip()
    log = root / "server.log"
    process = start_serve(env, log)
    base = f"http://127.0.0.1:{env['SCRIBE_PORT']}"
    try:
        yield base, key
    finally:
        stop(process)
        text = log.read_text()
        assert key not in text, "the key reached the server's log"


def test_schemathesis_finds_no_server_error(served: tuple[str, str], tmp_path: Path) -> None:
    base, key = served
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        "not_a_server_error",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "15",
        "--max-time",
        "60",
        "--seed",
        "20301",
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--warnings",
        "off",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    # Run in a temporary folder: schemathesis keeps a cache (.schemathesis/) where it runs.
    result = subprocess.run(command, capture_output=True, text=True, timeout=400, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "No issues found" in output, output[-6000:]
    print(output[-3000:])


def test_the_real_server_refuses_oversized_headers_and_bad_keys(served: tuple[str, str]) -> None:
    base, key = served
    url = f"{base}/v1/models"
    assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer sk-scribe-wrong"}).status_code == 401
    huge = httpx.get(url, headers={"Authorization": f"Bearer {key}", "X-Filler": "x" * 1_000_000})
    assert huge.status_code == 431  # uvicorn passes it on; the app's own limit answers
    assert huge.json()["error"]["code"] == "headers_too_large"
    assert httpx.get(f"{base}/health").status_code == 200
