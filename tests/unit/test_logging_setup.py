"""The one logging setup: JSON lines with the request and job ids and the traceback; text lines
with both ids; uvicorn's access records as fields."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from scribe.log_context import REQUEST_ID, job_context
from scribe.logging_setup import QUIET_LOGGERS, logging_config


class Capture:
    """Applies the setup in a format, with its handlers writing to a buffer."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def apply(self, log_format: str) -> None:
        config = logging_config("info", log_format)
        for handler in config["handlers"].values():
            handler["stream"] = self.buffer
        logging.config.dictConfig(config)

    def lines(self) -> list[str]:
        return self.buffer.getvalue().splitlines()


@pytest.fixture
def captured() -> Iterator[Capture]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield Capture()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", *QUIET_LOGGERS):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def test_json_lines_carry_the_ids_and_the_exception(captured: Capture) -> None:
    captured.apply("json")
    log = logging.getLogger("scribe.test")
    token = REQUEST_ID.set("req_123")
    try:
        with job_context("job_abc"):
            try:
                raise ValueError("boom")
            except ValueError:
                log.exception("it failed: %s", "badly")
        log.info("outside the job")
    finally:
        REQUEST_ID.reset(token)
    log.warning("outside everything")
    first, second, third = (json.loads(line) for line in captured.lines())
    assert first["message"] == "it failed: badly" and first["level"] == "ERROR"
    assert first["logger"] == "scribe.test" and first["time"].endswith("Z")
    assert first["request_id"] == "req_123" and first["job_id"] == "job_abc"
    assert "ValueError: boom" in first["exception"] and "Traceback" in first["exception"]
    assert second["request_id"] == "req_123" and second["job_id"] is None
    assert "exception" not in second
    assert third["request_id"] is None and third["job_id"] is None


def test_text_lines_carry_both_ids(captured: Capture) -> None:
    captured.apply("text")
    token = REQUEST_ID.set("req_9")
    try:
        with job_context("job_7"):
            logging.getLogger("scribe.test").info("running")
    finally:
        REQUEST_ID.reset(token)
    assert " INFO scribe.test [req_9 job_7]: running" in captured.buffer.getvalue()


def test_access_lines_become_fields(captured: Capture) -> None:
    captured.apply("json")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/health", "1.1", 200
    )
    (entry,) = (json.loads(line) for line in captured.lines())
    assert entry["logger"] == "uvicorn.access"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/health", 200)
    assert entry["message"] == '127.0.0.1:5000 - "GET /health HTTP/1.1" 200'


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="text, json"):
        logging_config("info", "yaml")
