"""The one place a request becomes options: the server's defaults, implied settings, validation."""

from __future__ import annotations

import pytest

from scribe.domain.errors import InvalidRequest, UnknownModel
from scribe.domain.options import Task, TranscriptionOptions, VadChunking
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
    blank = _build(model="  ", language="")
    assert blank.model == "whisper-base" and blank.language is None  # the default engine


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
        (tuple(ReferenceClip(f"p{i}", wav_bytes(3)) for i in range(5)), "At most 4"),
        ((ReferenceClip("SPEAKER_01", wav_bytes(3)),), "unnamed speakers"),
        ((ReferenceClip("Ann", wav_bytes(3)), ReferenceClip("Ann", wav_bytes(3))), "duplicates"),
        ((ReferenceClip(" ", wav_bytes(3)),), "empty name"),
        ((ReferenceClip("Ann", b"not audio"),), "not usable audio"),
        ((ReferenceClip("Ann", wav_bytes(1.5)),), "1.5 s long"),
        ((ReferenceClip("Ann", wav_bytes(10.5)),), "10.5 s long"),
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
    words = ("word",)
    assert _build(
        diarize=False, timestamp_granularities=words, response_format=ResponseFormat.VERBOSE_JSON
    ).needs_word_times
    assert _build(diarize=False, include=("logprobs",)).needs_word_times
    assert _build().needs_word_times  # diarized by default
    assert _build(diarize=False, detect_paragraphs=True).needs_word_times
    assert _build(diarize=False, detect_entities=True).needs_word_times
    assert not _build(diarize=False, detect_sentiment=True).needs_word_times


def test_openai_ids_speak_no_speakers_unless_asked() -> None:
    for model in ("whisper-1", "gpt-4o-transcribe", "gpt-transcribe"):
        assert _build(model=model).diarize is False
        assert _build(model=model, diarize=True).diarize is True
        assert _build(model=model, response_format=ResponseFormat.DIARIZED_JSON).diarize is True
        clip = ReferenceClip("Ann", wav_bytes(3))
        assert _build(model=model, known_speakers=(clip,)).diarize is True
    assert _build(model="gpt-4o-transcribe-diarize").diarize is True
    assert _build(model="whisper-1", num_speakers=2).diarize is True  # a hint asks for speakers
    assert _build(model="whisper-1", max_speakers=3, diarize=False).diarize is False


def test_the_services_own_ids_keep_the_server_default() -> None:
    assert _build(model="whisper-base").diarize is True
    assert _build().diarize is True
    assert _build(_builder(by_default=False), model="whisper-base").diarize is False


def test_languages_are_normalised_and_checked_against_the_engine() -> None:
    assert _build(language="en-US").language == "en"
    assert _build(language="French").language == "fr"
    one = _build(languages=("fr-CA",))
    assert one.language == "fr" and one.languages == ("fr",)
    some = _build(languages=("en", "fr", "en-GB"))
    assert some.language is None and some.languages == ("en", "fr")
    with pytest.raises(InvalidRequest) as err:
        _build(language="de")  # a language Whisper knows, but not this engine
    assert err.value.param == "language" and err.value.code == "unsupported_language"
    with pytest.raises(InvalidRequest) as err:
        _build(languages=("en", "xx"))
    assert err.value.param == "languages"


@pytest.mark.parametrize(
    ("request_fields", "param"),
    [
        ({"timestamp_granularities": ("word",)}, "timestamp_granularities"),
        (
            {
                "timestamp_granularities": ("char",),
                "response_format": ResponseFormat.VERBOSE_JSON,
            },
            "timestamp_granularities",
        ),
        ({"include": ("everything",)}, "include"),
        ({"include": ("logprobs",), "response_format": ResponseFormat.TEXT}, "include"),
    ],
)
def test_granularities_and_include_are_checked(
    request_fields: dict[str, object], param: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        _build(**request_fields)
    assert err.value.param == param


def test_granularities_decide_words_and_segments() -> None:
    verbose = ResponseFormat.VERBOSE_JSON
    words = _build(response_format=verbose, timestamp_granularities=("word",))
    assert words.word_timestamps and not words.segment_timestamps
    both = _build(response_format=verbose, timestamp_granularities=("word", "segment"))
    assert both.word_timestamps and both.segment_timestamps
    plain = _build(response_format=verbose)
    assert not plain.word_timestamps and plain.segment_timestamps


def test_the_rest_of_openais_fields_reach_the_options() -> None:
    options = _build(
        task=Task.TRANSLATE,
        include=("logprobs",),
        keywords=(" Scribe ", "", "Scribe", "diarization"),
        chunking_strategy=VadChunking(threshold=0.6),
    )
    assert options.task is Task.TRANSLATE and options.logprobs and options.needs_word_times
    assert options.keywords == ("Scribe", "diarization")
    assert options.chunking == VadChunking(threshold=0.6)
