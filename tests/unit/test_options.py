"""The one place a request becomes options: the server's defaults, implied settings, validation."""

from __future__ import annotations

import pytest

from scribe.domain.errors import InvalidRequest, UnknownModel
from scribe.domain.options import TranscriptionOptions
from scribe.domain.response_format import ResponseFormat
from scribe.use_cases.engines import AsrEngines
from scribe.use_cases.options import OptionsBuilder, ReferenceClip, TranscriptionRequest
from tests.fakes import FakeAsr, FakeDecoder, wav_bytes


class _Rules:
    """A post-processor that knows one rule set."""

    def validate(self, options: TranscriptionOptions) -> None:
        unknown = set(options.text_rules) - {"house"}
        if unknown:
            raise InvalidRequest(f"Unknown rule sets {sorted(unknown)}.", param="text_rules")

    def wanted(self, options: TranscriptionOptions) -> bool:
        return bool(options.text_rules)

    def apply(self, transcript, options):  # type: ignore[no-untyped-def]
        return transcript


def _builder(*, diarizer: bool = True, by_default: bool = True) -> OptionsBuilder:
    return OptionsBuilder(
        AsrEngines([FakeAsr(name="whisper-base")]),
        FakeDecoder(),
        diarizer_available=diarizer,
        diarize_by_default=by_default,
        post_processors=[_Rules()],
    )


def _build(builder: OptionsBuilder | None = None, **request: object) -> TranscriptionOptions:
    return (builder or _builder()).build(TranscriptionRequest(**request))  # type: ignore[arg-type]


def test_diarize_left_out_follows_the_server_default() -> None:
    assert _build().diarize is True
    assert _build(_builder(by_default=False)).diarize is False
    assert _build(_builder(diarizer=False)).diarize is False


def test_an_explicit_diarize_wins_over_the_default() -> None:
    assert _build(_builder(by_default=False), diarize=True).diarize is True
    assert _build(diarize=False).diarize is False


def test_diarized_json_and_known_speakers_imply_diarization() -> None:
    off = _builder(by_default=False)
    assert _build(off, response_format=ResponseFormat.DIARIZED_JSON).diarize is True
    assert _build(off, diarize=False, response_format=ResponseFormat.DIARIZED_JSON).diarize is True
    clip = ReferenceClip("Ann", wav_bytes(3))
    options = _build(off, known_speakers=(clip,))
    assert options.diarize is True and [k.name for k in options.known_speakers] == ["Ann"]


def test_asking_for_speakers_without_a_diarizer_is_refused() -> None:
    with pytest.raises(InvalidRequest) as err:
        _build(_builder(diarizer=False), diarize=True)
    assert err.value.param == "diarize"
    with pytest.raises(InvalidRequest):
        _build(_builder(diarizer=False), response_format=ResponseFormat.DIARIZED_JSON)


def test_values_are_normalised() -> None:
    options = _build(model=" whisper-base ", language=" EN ", prompt="", text_rules=(" house ", ""))
    assert options.model == "whisper-base" and options.language == "en"
    assert options.prompt is None and options.text_rules == ("house",)
    assert _build(model="  ", language="").model is None


@pytest.mark.parametrize(
    ("request_fields", "param"),
    [
        ({"temperature": 1.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"num_speakers": 0}, "num_speakers"),
        ({"min_speakers": 3, "max_speakers": 2}, "min_speakers"),
        ({"text_rules": ("nope",)}, "text_rules"),
        ({"model": "nope"}, "model"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(
    request_fields: dict[str, object], param: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        _build(**request_fields)
    assert err.value.param == param


def test_an_unknown_model_lists_the_choices() -> None:
    with pytest.raises(UnknownModel) as err:
        _build(model="nope")
    assert "whisper-base" in err.value.message and "whisper-1" in err.value.message


@pytest.mark.parametrize(
    ("clips", "fragment"),
    [
        (tuple(ReferenceClip(f"p{i}", wav_bytes(3)) for i in range(11)), "At most 10"),
        ((ReferenceClip("Ann", wav_bytes(3)), ReferenceClip("Ann", wav_bytes(3))), "duplicates"),
        ((ReferenceClip(" ", wav_bytes(3)),), "empty name"),
        ((ReferenceClip("Ann", b"not audio"),), "not usable audio"),
        ((ReferenceClip("Ann", wav_bytes(0.5)),), "0.5 s long"),
        ((ReferenceClip("Ann", wav_bytes(20)),), "20.0 s long"),
    ],
)
def test_bad_known_speaker_clips_are_refused(
    clips: tuple[ReferenceClip, ...], fragment: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        _build(known_speakers=clips)
    assert fragment in err.value.message


def test_word_times_are_asked_of_the_engine_when_anything_needs_them() -> None:
    assert not _build(diarize=False).needs_word_times
    assert _build(diarize=False, word_timestamps=True).needs_word_times
    assert _build().needs_word_times  # diarized by default
    assert _build(diarize=False, detect_paragraphs=True).needs_word_times
    assert _build(diarize=False, detect_entities=True).needs_word_times
    assert not _build(diarize=False, detect_sentiment=True).needs_word_times
