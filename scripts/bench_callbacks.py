#!/usr/bin/env python
"""Callbacks benchmark: from a job's end (the store's save) to the receiver getting the POST.

    python scripts/bench_callbacks.py                       # SQLite and PostgreSQL, 200 events
    python scripts/bench_callbacks.py --events 200 --polled 40 --databases sqlite

Per database, with the real adapters (SqlJobStore writing the outbox, SqlCallbackOutbox, the
Standard Webhooks sender) and a local receiver (http.server, one thread per request):

1. woken: one job ends at a time and the deliverer is woken, as the runner does for jobs that
   end in its own process; the time from the save to the POST's arrival, median and p95.
2. polled: the same with no wake-up, as for a job ended by another process (`scribe jobs
   cancel`, a worker with no deliverer): bounded by SCRIBE_CALLBACK_POLL_SECONDS (default 1 s).
3. burst: ``--events`` jobs end at once (one save each, back to back); events/s from the first
   save to the last POST's arrival, with one deliverer, then with two (as two processes would).

PostgreSQL is a throwaway cluster (scribe.devtools.services) started with fsync=off, so its
commits are cheaper than a production server's.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from scribe.adapters.db import Database
from scribe.adapters.db.callback_outbox import SqlCallbackOutbox
from scribe.adapters.db.job_store import SqlJobStore
from scribe.adapters.webhooks.sender import StandardWebhookSender
from scribe.bootstrap import describe_job
from scribe.devtools.services import postgres_server
from scribe.domain.jobs import Job, JobStatus, JobUsage
from scribe.domain.options import Task
from scribe.use_cases.callback_delivery import CallbackDelivery, CallbackPolicy

SECRET = "whsec_" + base64.b64encode(b"b" * 32).decode()


class Receiver:
    """Records when each job's callback arrived (``perf_counter``), by job id."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.posts = 0
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                now = time.perf_counter()
                job_id = body.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
                with receiver.cond:
                    receiver.posts += 1
                    receiver.arrived.setdefault(job_id, now)
                    receiver.cond.notify_all()
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 511  # as nginx; http.server's 5 resets bursts of connections

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait(self, job_ids: list[str], timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not all(j in self.arrived for j in job_ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{sum(j in self.arrived for j in job_ids)} arrived")
                self.cond.wait(left)


class Bench:
    def __init__(self, url: str, receiver: Receiver, prefix: str) -> None:
        self.prefix = prefix
        self.database = Database(url)
        self.database.upgrade()
        self.store = SqlJobStore(self.database, describe=describe_job)
        self.receiver = receiver
        self.count = 0

    def deliverer(self, name: str, poll: float = 1.0) -> CallbackDelivery:
        sender = StandardWebhookSender(SECRET, allow_private=True)
        policy = CallbackPolicy(poll_seconds=poll)
        return CallbackDelivery(
            SqlCallbackOutbox(self.database), sender, holder=name, policy=policy
        )

    def running_job(self) -> Job:
        self.count += 1
        now = datetime.now(UTC)
        job_id = f"job_{self.prefix}{self.count:06d}"
        job = Job(job_id, None, Task.TRANSCRIBE, "m", {}, now, callback_url=self.receiver.url)
        self.store.add(job)
        running = job.start(now)
        self.store.save(running, expect=JobStatus.QUEUED)
        return running

    def end(self, running: Job) -> float:
        """Save its end; the moment just before the save."""
        began = time.perf_counter()
        done = running.complete(datetime.now(UTC), JobUsage(1.0, 1.0))
        assert self.store.save(done, expect=JobStatus.IN_PROGRESS)
        return began

    def latencies(self, events: int, *, wake: bool) -> list[float]:
        delivery = self.deliverer("latency")
        delivery.start()
        out = []
        try:
            for _ in range(events):
                running = self.running_job()
                began = self.end(running)
                if wake:
                    delivery.wake()
                self.receiver.wait([running.id])
                out.append(self.receiver.arrived[running.id] - began)
        finally:
            delivery.stop()
        return out

    def burst(self, events: int, processes: int) -> tuple[float, int]:
        jobs = [self.running_job() for _ in range(events)]
        posts_before = self.receiver.posts
        deliveries = [self.deliverer(f"burst{i}", poll=0.05) for i in range(processes)]
        began = time.perf_counter()
        for job in jobs:
            self.end(job)
        for delivery in deliveries:
            delivery.start()
        try:
            self.receiver.wait([j.id for j in jobs])
        finally:
            for delivery in deliveries:
                delivery.stop()
        last = max(self.receiver.arrived[j.id] for j in jobs)
        return events / (last - began), self.receiver.posts - posts_before - events


def summary(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms (n={len(ms)})"


@contextmanager
def database_url(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/scribe.db"
    else:
        with postgres_server() as url:
            yield url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--polled", type=int, default=40, help="events for the polled case")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    receiver = Receiver()
    for kind in args.databases.split(","):
        with database_url(kind) as url:
            bench = Bench(url, receiver, kind[:2])
            bench.latencies(5, wake=True)  # warm: connections, imports
            print(
                f"{kind}: woken  save -> POST: {summary(bench.latencies(args.events, wake=True))}"
            )
            print(
                f"{kind}: polled save -> POST: {summary(bench.latencies(args.polled, wake=False))}"
            )
            for processes in (1, 2):
                rate, extra = bench.burst(args.events, processes)
                print(
                    f"{kind}: burst of {args.events}, {processes} deliverer(s): {rate:.0f} events/s"
                    f", {extra} duplicate POST(s)"
                )
            bench.database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
