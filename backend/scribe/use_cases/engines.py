"""Choosing the ASR engine a request names, by id and by what the request needs of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scribe.domain.errors import InvalidRequest, UnknownModel
from scribe.domain.options import Task
from scribe.ports.asr_engine import AsrEngine


@dataclass(frozen=True)
class OpenAIModel:
    """One of OpenAI's model ids. They name no engine of ours: the server picks one, and the
    request behaves as OpenAI's would (no speakers unless asked for)."""

    id: str
    diarizes: bool = False  # the id itself asks for speakers


# Every transcription model id OpenAI's SDK lists, so existing clients work unchanged.
OPENAI_MODELS: tuple[OpenAIModel, ...] = (
    OpenAIModel("whisper-1"),
    OpenAIModel("gpt-transcribe"),
    OpenAIModel("gpt-4o-transcribe"),
    OpenAIModel("gpt-4o-mini-transcribe"),
    OpenAIModel("gpt-4o-mini-transcribe-2025-12-15"),
    OpenAIModel("gpt-4o-transcribe-diarize", diarizes=True),
)
_OPENAI = {m.id: m for m in OPENAI_MODELS}


@dataclass(frozen=True)
class Needs:
    """What a request needs of the engine that runs it."""

    task: Task = Task.TRANSCRIBE
    word_probabilities: bool = False
    language: str | None = None


@dataclass(frozen=True)
class ModelChoice:
    """The engine a request runs on, and how its ``model`` named it."""

    engine: AsrEngine
    openai: OpenAIModel | None = None  # set when the request used one of OpenAI's ids

    @property
    def openai_id(self) -> bool:
        return self.openai is not None

    @property
    def diarizes(self) -> bool:
        """Whether the model id itself asks for speakers (gpt-4o-transcribe-diarize)."""
        return self.openai is not None and self.openai.diarizes


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
        """Every id a client may pass as ``model``: engine names, then OpenAI's ids."""
        return [e.name for e in self._engines] + [m.id for m in OPENAI_MODELS]

    def knows(self, model: str) -> bool:
        return model in self.model_ids()

    def is_openai_id(self, model: str | None) -> bool:
        return model in _OPENAI

    def select(self, model: str | None) -> AsrEngine:
        """The engine named ``model``; the default for no name or an OpenAI model id."""
        return self.choose(model).engine

    def choose(self, model: str | None, needs: Needs | None = None) -> ModelChoice:
        """The engine for a request naming ``model`` that needs ``needs``.

        An engine's own id must be able to do what is needed (else InvalidRequest naming the
        engines that can). OpenAI's ids and no id let the server choose: the default engine if
        it can, else the first that can.
        """
        needs = needs or Needs()
        openai = _OPENAI.get(model) if model else None
        if model and openai is None:
            for engine in self._engines:
                if engine.name == model:
                    self._check(engine, needs)
                    return ModelChoice(engine)
            choices = ", ".join(self.model_ids())
            raise UnknownModel(
                f"Unknown model '{model}'. This server serves: {choices}.",
                param="model",
                code="model_not_found",
            )
        for engine in self._engines:
            if not self._problem(engine, needs):
                return ModelChoice(engine, openai)
        self._check(self.default, needs)  # raises, naming what is missing
        return ModelChoice(self.default, openai)  # pragma: no cover - _check raised

    def _able(self, needs: Needs) -> list[str]:
        return [e.name for e in self._engines if not self._problem(e, needs)]

    @staticmethod
    def _problem(engine: AsrEngine, needs: Needs) -> tuple[str, str, str] | None:
        """(what it cannot do, param, code), or None when the engine can do all of ``needs``."""
        caps = engine.capabilities
        if needs.task is Task.TRANSLATE and not caps.translate:
            return "translate", "model", "translation_unsupported"
        if needs.word_probabilities and not caps.word_probabilities:
            return "return logprobs", "include", "logprobs_unsupported"
        if needs.language is not None and not caps.transcribes(needs.language):
            return f"transcribe language '{needs.language}'", "language", "unsupported_language"
        return None

    def _check(self, engine: AsrEngine, needs: Needs) -> None:
        problem = self._problem(engine, needs)
        if problem is None:
            return
        what, param, code = problem
        able = self._able(needs)
        if able:
            hint = f"Use model={' or model='.join(able)}."
        else:
            hint = "No engine on this server can."
            if needs.task is Task.TRANSLATE:
                hint += " Whisper translates: add `whisper` to SCRIBE_ASR_ENGINE."
        if code == "unsupported_language" and engine.capabilities.languages is not None:
            hint = f"It transcribes: {', '.join(sorted(engine.capabilities.languages))}. {hint}"
        raise InvalidRequest(
            f"The model {engine.name} cannot {what}. {hint}", param=param, code=code
        )
