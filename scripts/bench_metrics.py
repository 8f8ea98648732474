"""What the metrics middleware costs a small request.

Two measures, in process (no network, so the middleware's share is not lost in the noise):

1. the middleware alone, around a bare ASGI app that answers 200 at once;
2. ``GET /health`` through the whole app (every middleware, fakes behind the ports), with the
   metrics middleware and without it, and one ``GET /metrics`` scrape.

Usage (record the machine's load beside the figures):
    flock /tmp/scribe-bench.lock python scripts/bench_metrics.py [--requests 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fakes

from starlette.types import Receive, Scope, Send

from scribe.adapters.metrics.prometheus_metrics import ServiceMetrics
from scribe.api.metrics import RequestMetrics


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _drive(app: Any, count: int) -> float:
    scope = {"type": "http", "method": "GET", "path": "/health", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Any) -> None:
        pass

    started = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / count


def middleware_alone(count: int, rounds: int = 5) -> tuple[float, float]:
    wrapped = RequestMetrics(bare, ServiceMetrics())
    plain = [asyncio.run(_drive(bare, count)) for _ in range(rounds)]
    metered = [asyncio.run(_drive(wrapped, count)) for _ in range(rounds)]
    return statistics.median(plain), statistics.median(metered)


def whole_app(count: int, rounds: int = 5) -> tuple[float, float, float]:
    from fastapi.testclient import TestClient

    from scribe.api.app import create_app
    from tests.fakes import fake_services

    def per_request(with_metrics: bool) -> float:
        services: Any = fake_services()
        services.warm_up.run()
        if not with_metrics:
            services.metrics = None  # create_app then adds no metrics middleware
        with TestClient(create_app(services)) as client:
            for _ in range(50):
                client.get("/health")
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                for _ in range(count):
                    client.get("/health")
                times.append((time.perf_counter() - started) / count)
        return statistics.median(times)

    without, with_ = per_request(False), per_request(True)
    services: Any = fake_services()
    services.warm_up.run()
    with TestClient(create_app(services)) as client:
        for _ in range(200):
            client.get("/health")
        started = time.perf_counter()
        scrapes = 20
        for _ in range(scrapes):
            client.get("/metrics")
        scrape = (time.perf_counter() - started) / scrapes
    return without, with_, scrape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="per round (5 rounds)")
    args = parser.parse_args()
    plain, metered = middleware_alone(args.requests)
    print(f"bare ASGI app:           {plain * 1e6:8.1f} us/request")
    print(f"  + RequestMetrics:      {metered * 1e6:8.1f} us/request")
    print(f"  middleware's cost:     {(metered - plain) * 1e6:8.1f} us/request")
    count = max(200, args.requests // 10)
    without, with_, scrape = whole_app(count)
    print(f"GET /health, whole app:  {without * 1e6:8.1f} us without metrics")
    print(f"                         {with_ * 1e6:8.1f} us with metrics")
    print(f"  difference:            {(with_ - without) * 1e6:8.1f} us/request")
    print(f"GET /metrics scrape:     {scrape * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
