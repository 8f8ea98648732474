"""Wire-format pieces of a transcription request that need parsing before the use case sees them."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence

from starlette.datastructures import FormData

from scribe.domain.errors import InvalidRequest
from scribe.domain.options import VadChunking
from scribe.use_cases.options import ReferenceClip

_DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[\w.-]+)*;base64,(?P<data>.*)$", re.S
)
_VAD_FIELDS = ("type", "threshold", "prefix_padding_ms", "silence_duration_ms")


def with_plain_spelling(values: Sequence[str] | None, form: FormData, name: str) -> tuple[str, ...]:
    """A list field's values under ``name[]`` (as OpenAI's SDKs send it; FastAPI parsed those)
    and under the plain ``name`` (as curl users and some clients send it)."""
    plain = [v for v in form.getlist(name) if isinstance(v, str)]
    return tuple(values or ()) + tuple(plain)


def chunking_strategy(form: FormData) -> VadChunking | None:
    """OpenAI's ``chunking_strategy``: ``auto``, or a ``server_vad`` object sent as bracketed
    fields (``chunking_strategy[type]=server_vad``, as the SDKs send it) or as a JSON string."""
    raw = form.get("chunking_strategy")
    fields: dict[str, object] = {}
    for key in _VAD_FIELDS:
        value = form.get(f"chunking_strategy[{key}]")
        if isinstance(value, str):
            fields[key] = value
    if isinstance(raw, str) and raw.strip():
        text = raw.strip()
        if text == "auto":
            return VadChunking()
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            raise InvalidRequest(
                "chunking_strategy must be 'auto' or a server_vad object "
                '({"type": "server_vad", "threshold": ..., "prefix_padding_ms": ..., '
                '"silence_duration_ms": ...}).',
                param="chunking_strategy",
            )
        fields = {**parsed, **fields}
    if not fields:
        return None
    if fields.get("type") != "server_vad":
        raise InvalidRequest(
            f"chunking_strategy.type must be 'server_vad', got {fields.get('type')!r}.",
            param="chunking_strategy",
        )
    unknown = sorted(set(fields) - set(_VAD_FIELDS))
    if unknown:
        raise InvalidRequest(
            f"chunking_strategy has unknown fields: {', '.join(unknown)}.",
            param="chunking_strategy",
        )
    return VadChunking(
        threshold=_number(fields.get("threshold"), "threshold", integer=False),
        prefix_padding_ms=_int(fields.get("prefix_padding_ms"), "prefix_padding_ms"),
        silence_duration_ms=_int(fields.get("silence_duration_ms"), "silence_duration_ms"),
    )


def _number(value: object, name: str, *, integer: bool) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(str(value))
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or (integer and not number.is_integer()):
        kind = "a whole number" if integer else "a number"
        raise InvalidRequest(
            f"chunking_strategy.{name} must be {kind}, got {value!r}.", param="chunking_strategy"
        )
    return number


def _int(value: object, name: str) -> int | None:
    number = _number(value, name, integer=True)
    return None if number is None else int(number)


def reference_clips(
    names: list[str] | None, references: list[str] | None
) -> tuple[ReferenceClip, ...]:
    """Pair ``known_speaker_names[]`` with ``known_speaker_references[]`` (audio data URLs)."""
    names = [n.strip() for n in names or [] if n.strip()]
    references = references or []
    if len(names) != len(references):
        raise InvalidRequest(
            f"known_speaker_names[] has {len(names)} entries but known_speaker_references[] has "
            f"{len(references)}; give one reference clip per name.",
            param="known_speaker_references",
        )
    clips = []
    for index, (name, url) in enumerate(zip(names, references, strict=True)):
        param = f"known_speaker_references[{index}]"
        match = _DATA_URL.match(url.strip())
        if not match:
            raise InvalidRequest(
                f"{param} must be a base64 data URL such as 'data:audio/wav;base64,...'.",
                param="known_speaker_references",
            )
        try:
            data = base64.b64decode(match["data"], validate=False)
        except (binascii.Error, ValueError):
            raise InvalidRequest(
                f"{param} is not valid base64.", param="known_speaker_references"
            ) from None
        clips.append(ReferenceClip(name=name, data=data))
    return tuple(clips)
