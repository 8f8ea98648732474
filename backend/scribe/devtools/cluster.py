"""The scaled shape as real processes: Redis (with its append-only file), PostgreSQL, `scribe
serve` as an API node and `scribe worker` processes, started the way the README starts them.
Used by the scale-out tests (tests/scale) and by scripts/bench_scale.py; no pytest here."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .services import free_port, wait_until_ready


def _wait_port(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class RedisProcess:
    """redis-server on a fixed port and folder, append-only file on (fsync always), so that a
    restart keeps everything: the broker's queues, audio, events."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary, self.root, self.port = binary, root, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root)]
        args += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen([self.binary, *args], stdout=log, stderr=log)
        _wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@dataclass
class Node:
    """One `scribe` process and its log."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        """`kill -9` of the process and everything it started (a lost machine)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait (a worker finishes its job first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return int(self.process.returncode)


@dataclass
class Cluster:
    root: Path
    redis: RedisProcess
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    api_port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _spawn(self, name: str, args: list[str], env: Mapping[str, str]) -> Node:
        log = self.root / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "scribe.cli", *args],
                # Each process its own data directory, as each container of
                # docker-compose.scale.yml has: nothing may depend on sharing one.
                env={
                    **os.environ,
                    "SCRIBE_DATA_DIR": str(self.root / "data" / name),
                    **self.env,
                    **env,
                },
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for kill9
            )
        node = Node(name, process, log)
        self.nodes.append(node)
        return node

    def start_api(self, **env: str) -> Node:
        if not self.api_port:
            self.api_port = free_port()
        node = self._spawn("api", ["serve", "--port", str(self.api_port)], env)
        if wait_until_ready(self.base, node.process, 120, poll=0.3):
            return node
        if not node.alive():
            raise RuntimeError(f"the API node exited:\n{node.log_text()}")
        raise TimeoutError(f"the API node is not ready:\n{node.log_text()}")

    def start_worker(self, name: str, engines: str = "whisper", **env: str) -> Node:
        return self._spawn(name, ["worker", "--engines", engines], env)

    def wait_ready(self, worker: Node, seconds: float = 240.0) -> dict[str, Any]:
        """Until the worker has announced itself to the API node (its models are loaded)."""
        deadline = time.monotonic() + seconds
        suffix = f":{worker.process.pid}"
        while True:
            if not worker.alive():
                raise RuntimeError(f"worker {worker.name} exited:\n{worker.log_text()}")
            body = httpx.get(f"{self.base}/health/ready", timeout=5).json()
            for announced in body.get("workers", []):
                if str(announced["name"]).endswith(suffix):
                    return dict(announced)
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker {worker.name} is not ready:\n{worker.log_text()}")
            time.sleep(0.3)

    def stop_all(self) -> None:
        for node in reversed(self.nodes):
            if node.alive():
                node.stop(timeout=20)
        self.nodes.clear()


@contextlib.contextmanager
def cluster(database_url: str, **env: str) -> Iterator[Cluster]:
    """Redis (AOF) in a temporary folder and the environment every node shares; nodes are
    started by the test, and all stopped at the end."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    root = Path(tempfile.mkdtemp(prefix="scribe-scale-"))
    redis = RedisProcess(binary, root)
    redis.start()
    shared = {
        "SCRIBE_JOB_QUEUE": "celery",
        "SCRIBE_REDIS_URL": redis.url,
        "SCRIBE_DATABASE_URL": database_url,
        "SCRIBE_HOST": "127.0.0.1",
        "SCRIBE_DEVICE": "cpu",
        "SCRIBE_DIARIZER": "none",
        "SCRIBE_LOG_LEVEL": "info",
        "HF_HUB_OFFLINE": "1",
        "PYANNOTE_METRICS_ENABLED": "false",
        **env,
    }
    made = Cluster(root, redis, database_url, shared)
    try:
        yield made
    finally:
        made.stop_all()
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)
