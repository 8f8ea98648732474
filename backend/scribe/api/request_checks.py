"""Checks on the shape of a request, before any route logic: header sizes, and form fields that
the route does not declare or that are repeated where one value is expected."""

from __future__ import annotations

import types
import typing
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from scribe.domain.errors import InvalidRequest

from .errors import error_response

MAX_HEADER_BYTES = 16 * 1024  # one header (uvicorn's own limit on all of them is close to this)
MAX_HEADERS_BYTES = 64 * 1024  # all of them


class HeaderLimit:
    """Answers 431 in OpenAI's shape when a header (or all of them) is too large."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            sizes = [len(name) + len(value) for name, value in scope.get("headers", [])]
            if sizes and (max(sizes) > MAX_HEADER_BYTES or sum(sizes) > MAX_HEADERS_BYTES):
                response = error_response(
                    431,
                    f"A request header is too large (at most {MAX_HEADER_BYTES // 1024} KB each, "
                    f"{MAX_HEADERS_BYTES // 1024} KB in all).",
                    "invalid_request_error",
                    code="headers_too_large",
                )
                response.headers["connection"] = "close"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def known_form_fields(request: Request) -> None:
    """Refuse form fields the route does not declare, and repeats of single-valued ones.

    FastAPI has already parsed (and cached) the form when dependencies run; the declared fields
    come from the route itself, so a field added to a route is known here at once.
    """
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = {
        field.alias: _is_sequence(field.field_info.annotation) for field in _body(dependant)
    }
    if not declared:
        return
    form = await request.form()
    counts: dict[str, int] = {}
    for name, _ in form.multi_items():
        counts[name] = counts.get(name, 0) + 1
    for name, count in counts.items():
        name = _declared_spelling(name, declared)
        if name not in declared:
            shown = name if len(name) <= 64 else name[:64] + "…"
            raise InvalidRequest(
                f"Unrecognized request argument supplied: {shown}",
                param=shown,
                code="unknown_parameter",
            )
        if count > 1 and not declared[name]:
            raise InvalidRequest(
                f"Parameter '{name}' was given {count} times; give it once.",
                param=name,
                code="repeated_parameter",
            )


def _declared_spelling(name: str, declared: dict[str, bool]) -> str:
    """The declared field a form field stands for, in the spellings OpenAI's clients use: a list
    field ``x[]`` also as plain ``x``, an object field ``x`` also as bracketed ``x[key]``."""
    if name not in declared and f"{name}[]" in declared:
        return f"{name}[]"
    base, bracket, rest = name.partition("[")
    if bracket and rest.endswith("]") and rest != "]" and base in declared:
        return base
    return name


def _body(dependant: Any) -> list[Any]:
    fields = list(dependant.body_params)
    for sub in dependant.dependencies:
        fields.extend(_body(sub))
    return fields


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(arg) for arg in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _is_sequence(typing.get_args(annotation)[0])
    return origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set)
