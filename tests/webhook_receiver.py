"""A real local webhook receiver (http.server, one thread per request) that holds the first
POST without answering until released: the sender of that first attempt can be killed while it
waits, as a process that dies between a job's end and the receiver's answer."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Got:
    headers: dict[str, str]
    body: bytes


@dataclass
class HoldingReceiver:
    port: int = 0
    got: list[Got] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextlib.contextmanager
def holding_receiver() -> Iterator[HoldingReceiver]:
    state = HoldingReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.got.append(Got({k.lower(): v for k, v in self.headers.items()}, body))
            if len(state.got) == 1:
                state.release.wait(60)
            try:
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the first sender is dead

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
