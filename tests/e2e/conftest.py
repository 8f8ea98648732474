"""One real `scribe serve` for the end-to-end tests of the session, started as a user starts it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openai import OpenAI

from tests.e2e.serving import serving
from tests.services import free_port


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:PORT
    log: Path  # everything the server printed (its log lines)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {"SCRIBE_PORT": str(free_port()), "SCRIBE_DEVICE": "cpu", "SCRIBE_MAX_UPLOAD_MB": "20"}
    with serving({**env, "HF_HUB_OFFLINE": "1"}, log) as base:
        yield Server(base, log)


@pytest.fixture(scope="session")
def server(running_server: Server) -> str:
    return running_server.base


@pytest.fixture(scope="session")
def client(server: str) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key="not-needed", timeout=300)
