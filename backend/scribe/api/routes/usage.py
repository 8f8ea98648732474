"""GET /v1/usage: requests, audio and processing time per key and day."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ..auth import CallerDep
from ..deps import ServicesDep
from ..schemas import ErrorResponse

router = APIRouter(tags=["usage"])


class UsageDayOut(BaseModel):
    object: Literal["usage.day"] = "usage.day"
    key_id: str
    key_name: str
    date: date
    requests: int
    audio_seconds: float
    processing_seconds: float
    failures: int


class UsageList(BaseModel):
    object: Literal["list"] = "list"
    data: list[UsageDayOut]


@router.get(
    "/v1/usage",
    response_model=UsageList,
    summary="Usage per key and UTC day",
    description="A key sees its own usage; an `admin` key sees every key's (or one, with `key`).",
    responses={
        401: {"model": ErrorResponse, "description": "Missing or invalid API key"},
        403: {"model": ErrorResponse, "description": "Another key's usage, without admin scope"},
    },
)
async def usage(
    services: ServicesDep,
    caller: CallerDep,
    since: Annotated[date | None, Query(description="First day (YYYY-MM-DD), inclusive.")] = None,
    key: Annotated[
        str | None, Query(max_length=40, description="Only this key id (admin keys).")
    ] = None,
) -> UsageList:
    days = await run_in_threadpool(services.usage.days, caller, since=since, key_id=key)
    return UsageList(
        data=[
            UsageDayOut(
                key_id=d.key_id,
                key_name=d.key_name,
                date=d.day,
                requests=d.requests,
                audio_seconds=round(d.audio_seconds, 3),
                processing_seconds=round(d.processing_seconds, 3),
                failures=d.failures,
            )
            for d in days
        ]
    )
