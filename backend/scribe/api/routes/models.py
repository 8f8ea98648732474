"""GET /v1/models: what this server transcribes with."""

from __future__ import annotations

import time

from fastapi import APIRouter

from scribe.domain.errors import NotFound

from ..deps import ServicesDep
from ..schemas import ModelList, ModelOut

router = APIRouter(tags=["models"])
_STARTED = int(time.time())


@router.get("/v1/models", response_model=ModelList, summary="List the models this server serves")
async def list_models(services: ServicesDep) -> ModelList:
    return ModelList(data=[ModelOut(id=m, created=_STARTED) for m in services.engines.model_ids()])


@router.get("/v1/models/{model_id}", response_model=ModelOut, summary="One model")
async def get_model(model_id: str, services: ServicesDep) -> ModelOut:
    if not services.engines.knows(model_id):
        raise NotFound(
            f"The model '{model_id}' does not exist. This server serves: "
            f"{', '.join(services.engines.model_ids())}.",
            param="model",
            code="model_not_found",
        )
    return ModelOut(id=model_id, created=_STARTED)
