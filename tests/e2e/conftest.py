"""One real `scribe serve` for the end-to-end tests of the session, started as a user starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from openai import OpenAI


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:PORT
    log: Path  # everything the server printed (its log lines)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {
        **os.environ,
        "SCRIBE_PORT": str(port),
        "SCRIBE_HOST": "127.0.0.1",
        "SCRIBE_DEVICE": "cpu",
        "SCRIBE_MAX_UPLOAD_MB": "20",
        "HF_HUB_OFFLINE": "1",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scribe.cli", "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                pytest.fail(f"scribe serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"scribe serve did not become ready:\n{log.read_text()}")
            time.sleep(0.5)
        yield Server(base, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def server(running_server: Server) -> str:
    return running_server.base


@pytest.fixture(scope="session")
def client(server: str) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key="not-needed", timeout=300)
