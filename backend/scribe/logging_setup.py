"""Logging for every ``scribe`` command: one setup, as text lines or JSON lines.

``scribe serve`` (uvicorn's error and access logs included), ``scribe worker`` (Celery's loggers
propagate to the root) and the other commands all call ``configure_logging``; uvicorn gets the
same ``logging_config`` as its ``log_config``. SCRIBE_LOG_FORMAT picks the shape:

- ``text`` (default): ``TIME LEVEL LOGGER [REQUEST_ID JOB_ID]: message`` and the traceback.
- ``json``: one object per line with ``time`` (UTC, ISO 8601), ``level``, ``logger``,
  ``message``, ``request_id`` and ``job_id`` (null outside a request or a job), ``exception``
  (the traceback's text) when there is one, and for access lines ``client``, ``method``, ``path``
  and ``status``.

The JSON formatter is a small ``logging.Formatter`` of the standard library rather than
python-json-logger: the fields are fixed and few, and it is one dependency less in every image.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, Literal

from .log_context import JOB_ID, REQUEST_ID

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(context)s]: %(message)s"
ACCESS_FORMAT = (
    '%(asctime)s %(levelname)s access [%(context)s]: %(client_addr)s - "%(request_line)s" '
    "%(status_code)s"
)
# Libraries that log a line per plugin or per HTTP call at INFO.
QUIET_LOGGERS = ("alembic", "httpx", "httpcore", "urllib3", "filelock")


class ContextFilter(logging.Filter):
    """Puts ``request_id`` and ``job_id`` (``-`` when there is none) and ``context`` (both,
    for the text format) on every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        if not hasattr(record, "job_id"):
            record.job_id = JOB_ID.get() or "-"
        request, job = getattr(record, "request_id", "-"), getattr(record, "job_id", "-")
        record.context = request if job == "-" else f"{request} {job}"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module's docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _present(getattr(record, "request_id", None) or REQUEST_ID.get()),
            "job_id": _present(getattr(record, "job_id", None) or JOB_ID.get()),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            entry.update(_access_fields(record.args))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _present(value: object) -> str | None:
    return None if value in (None, "-") else str(value)


def _access_fields(args: tuple[object, ...]) -> dict[str, object]:
    # uvicorn's access records: (client_addr, method, full_path, http_version, status_code)
    if len(args) != 5:
        return {}
    client, method, path, _, status = args
    return {"client": client, "method": method, "path": path, "status": status}


def logging_config(level: str = "info", log_format: str = "text") -> dict[str, Any]:
    """``logging.config.dictConfig`` settings: the root logger, uvicorn's loggers (its access
    log too) and Celery's, in ``log_format``, with the request and job ids on every line."""
    level = level.upper()
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {log_format!r}")
    if log_format == "json":
        formatters: dict[str, Any] = {
            "default": {"()": JsonFormatter},
            "access": {"()": JsonFormatter},
        }
    else:
        formatters = {
            "default": {"format": TEXT_FORMAT},
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": ACCESS_FORMAT,
                "use_colors": False,
            },
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": formatters,
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "filters": ["context"],
                "stream": "ext://sys.stdout",
            },
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            **{name: {"level": "WARNING"} for name in QUIET_LOGGERS},
        },
    }


def configure_logging(level: str = "info", log_format: str = "text") -> None:
    """Set up logging for this process (``logging_config``)."""
    logging.config.dictConfig(logging_config(level, log_format))
