"""The authenticated caller of a request, for routes: ``caller: CallerDep``.

``AccessGuard`` (api/access.py) authenticates every ``/v1/*`` request before its body is read and
leaves the caller on the request; this dependency hands it to routes (and declares the bearer
scheme in the OpenAPI schema). A route reached without the guard is refused, never anonymous.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from scribe.domain.caller import Caller
from scribe.domain.errors import Unauthenticated

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="api_key",
    description="An API key from `scribe keys create`, as `Authorization: Bearer KEY`.",
)


def get_caller(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> Caller:
    caller = getattr(request.state, "caller", None)
    if not isinstance(caller, Caller):
        raise Unauthenticated("This route requires an API key.")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
