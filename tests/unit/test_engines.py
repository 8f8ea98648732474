"""Which engine runs a request: by id, and by what the request needs of it."""

import pytest

from scribe.domain.errors import InvalidRequest, UnknownModel
from scribe.domain.options import Task
from scribe.ports.asr_engine import AsrCapabilities
from scribe.use_cases.engines import OPENAI_MODELS, AsrEngines, Needs
from tests.fakes import FakeAsr

PARAKEET = FakeAsr(name="parakeet", capabilities=AsrCapabilities(languages=frozenset({"en"})))
WHISPER = FakeAsr(name="whisper-base")  # translates, has word probabilities, en and fr
BOTH = AsrEngines([PARAKEET, WHISPER])


def test_every_openai_id_the_sdk_lists_is_served() -> None:
    ids = BOTH.model_ids()
    for model in (
        "whisper-1",
        "gpt-transcribe",
        "gpt-4o-transcribe",
        "gpt-4o-mini-transcribe",
        "gpt-4o-mini-transcribe-2025-12-15",
        "gpt-4o-transcribe-diarize",
    ):
        assert model in ids and BOTH.is_openai_id(model)
    assert not BOTH.is_openai_id("whisper-base") and not BOTH.is_openai_id(None)
    assert [m.id for m in OPENAI_MODELS if m.diarizes] == ["gpt-4o-transcribe-diarize"]


def test_openai_ids_pick_the_default_engine_when_it_can() -> None:
    choice = BOTH.choose("whisper-1")
    assert choice.engine is PARAKEET and choice.openai_id and not choice.diarizes
    assert BOTH.choose("gpt-4o-transcribe-diarize").diarizes
    own = BOTH.choose("whisper-base")
    assert own.engine is WHISPER and not own.openai_id


@pytest.mark.parametrize(
    "needs",
    [
        Needs(task=Task.TRANSLATE),
        Needs(word_probabilities=True),
        Needs(language="fr"),
    ],
)
def test_openai_ids_and_no_id_pick_an_engine_that_can(needs: Needs) -> None:
    assert BOTH.choose("whisper-1", needs).engine is WHISPER
    assert BOTH.choose(None, needs).engine is WHISPER


@pytest.mark.parametrize(
    ("needs", "param", "code"),
    [
        (Needs(task=Task.TRANSLATE), "model", "translation_unsupported"),
        (Needs(word_probabilities=True), "include", "logprobs_unsupported"),
        (Needs(language="fr"), "language", "unsupported_language"),
    ],
)
def test_an_engine_that_cannot_is_a_400_naming_those_that_can(
    needs: Needs, param: str, code: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        BOTH.choose("parakeet", needs)
    assert (err.value.param, err.value.code) == (param, code)
    assert "parakeet cannot" in err.value.message and "model=whisper-base" in err.value.message


def test_when_no_engine_can_translate_the_400_says_how_to_get_one() -> None:
    with pytest.raises(InvalidRequest) as err:
        AsrEngines([PARAKEET]).choose("whisper-1", Needs(task=Task.TRANSLATE))
    assert err.value.code == "translation_unsupported"
    assert "No engine on this server can" in err.value.message
    assert "SCRIBE_ASR_ENGINE" in err.value.message


def test_a_language_no_engine_knows_names_what_the_default_knows() -> None:
    with pytest.raises(InvalidRequest) as err:
        BOTH.choose(None, Needs(language="de"))
    assert err.value.param == "language" and "transcribes: en" in err.value.message


def test_an_unknown_id_lists_the_choices() -> None:
    with pytest.raises(UnknownModel) as err:
        BOTH.choose("gpt-99")
    assert err.value.code == "model_not_found" and "whisper-1" in err.value.message
    assert BOTH.knows("whisper-base") and not BOTH.knows("gpt-99")
