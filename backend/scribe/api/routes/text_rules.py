"""GET /v1/audio/text_rules: the text rule sets this server offers (for `text_rules[]`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from ..deps import ServicesDep

router = APIRouter(tags=["audio"])


class TextRuleSetOut(BaseModel):
    id: str
    object: Literal["text_rule_set"] = "text_rule_set"


class TextRuleSetList(BaseModel):
    object: Literal["list"] = "list"
    data: list[TextRuleSetOut]


@router.get(
    "/v1/audio/text_rules",
    response_model=TextRuleSetList,
    summary="List the text rule sets a request may name in `text_rules[]`",
    description="The operator defines them in `SCRIBE_TEXT_RULES_FILE`; empty when none is set.",
)
async def list_text_rules(services: ServicesDep) -> TextRuleSetList:
    return TextRuleSetList(data=[TextRuleSetOut(id=n) for n in services.options.text_rule_sets])
