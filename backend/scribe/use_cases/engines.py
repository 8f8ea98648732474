"""Choosing the ASR engine a request names."""

from __future__ import annotations

from collections.abc import Sequence

from scribe.domain.errors import UnknownModel
from scribe.ports.asr_engine import AsrEngine

# OpenAI's model ids, accepted as names of the default engine so existing clients work unchanged.
OPENAI_MODEL_ALIASES = (
    "whisper-1",
    "gpt-4o-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-transcribe-diarize",
)


class AsrEngines:
    """The configured ASR engines; the first is the default."""

    def __init__(self, engines: Sequence[AsrEngine]) -> None:
        if not engines:
            raise ValueError("at least one ASR engine is needed")
        self._engines = tuple(engines)

    @property
    def default(self) -> AsrEngine:
        return self._engines[0]

    @property
    def all(self) -> tuple[AsrEngine, ...]:
        return self._engines

    def model_ids(self) -> list[str]:
        """Every id a client may pass as ``model``: engine names, then OpenAI aliases."""
        return [e.name for e in self._engines] + list(OPENAI_MODEL_ALIASES)

    def select(self, model: str | None) -> AsrEngine:
        """The engine named ``model``; the default for no name or an OpenAI model id."""
        if not model or model in OPENAI_MODEL_ALIASES:
            return self.default
        for engine in self._engines:
            if model == engine.name:
                return engine
        choices = ", ".join(self.model_ids())
        raise UnknownModel(
            f"Unknown model '{model}'. This server serves: {choices}.",
            param="model",
            code="model_not_found",
        )
