"""A ``TranscriptionRequest`` as JSON-ready data and back: how a job carries its request to the
worker that runs it (maybe after a restart, maybe in another process)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

from scribe.domain.options import Task, VadChunking
from scribe.domain.response_format import ResponseFormat

from .options import ReferenceClip, TranscriptionRequest

_TUPLES = ("languages", "keywords", "timestamp_granularities", "include", "text_rules")


def request_to_dict(request: TranscriptionRequest) -> dict[str, Any]:
    data = {f.name: getattr(request, f.name) for f in fields(request)}
    data["task"] = request.task.value
    data["response_format"] = request.response_format.value
    for name in _TUPLES:
        data[name] = list(data[name])
    data["chunking_strategy"] = (
        None if request.chunking_strategy is None else asdict(request.chunking_strategy)
    )
    data["known_speakers"] = [
        {"name": c.name, "data": base64.b64encode(c.data).decode("ascii")}
        for c in request.known_speakers
    ]
    return data


def request_from_dict(data: Mapping[str, Any]) -> TranscriptionRequest:
    values = dict(data)
    known = {f.name for f in fields(TranscriptionRequest)}
    values = {k: v for k, v in values.items() if k in known}
    values["task"] = Task(values.get("task", Task.TRANSCRIBE.value))
    values["response_format"] = ResponseFormat(
        values.get("response_format", ResponseFormat.JSON.value)
    )
    for name in _TUPLES:
        values[name] = tuple(values.get(name) or ())
    chunking = values.get("chunking_strategy")
    values["chunking_strategy"] = None if chunking is None else VadChunking(**chunking)
    values["known_speakers"] = tuple(
        ReferenceClip(name=c["name"], data=base64.b64decode(c["data"]))
        for c in values.get("known_speakers") or ()
    )
    return TranscriptionRequest(**values)
