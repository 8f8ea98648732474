"""From a client's request to TranscriptionOptions: the one place where the server's rules apply.

Every entry point (the HTTP API, the CLI, jobs) describes what it was asked as a
``TranscriptionRequest`` and turns it into options with ``OptionsBuilder.build``, which applies the
defaults, the implied settings and every validation once, before any audio is decoded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace

from scribe.domain.errors import InvalidAudio, InvalidRequest
from scribe.domain.languages import language_code
from scribe.domain.options import (
    KnownSpeaker,
    SpeakerHints,
    Task,
    TranscriptionOptions,
    VadChunking,
)
from scribe.domain.response_format import ResponseFormat
from scribe.domain.speakers import is_generated_label
from scribe.ports.audio_decoder import AudioDecoder
from scribe.ports.post_processor import PostProcessor

from .engines import AsrEngines, ModelChoice, Needs

# Bounds on text fields, so that no field of megabytes reaches an engine.
MAX_PROMPT_CHARS = 4000
MAX_NAME_CHARS = 100  # model, language, text rule set names
MAX_TEXT_RULES = 20
# OpenAI's limits for known speakers: up to 4, each with a 2-10 s reference clip.
MAX_KNOWN_SPEAKERS = 4
REFERENCE_SECONDS = (2.0, 10.0)
# Reference clips are measured after decoding; codec padding may add a few milliseconds.
_REFERENCE_SLACK = 0.05
GRANULARITIES = ("word", "segment")
INCLUDES = ("logprobs",)


@dataclass(frozen=True)
class ReferenceClip:
    """A known speaker's name and a short recording of their voice, as uploaded (any format)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class TranscriptionRequest:
    """What a client asked for, as it asked it: nothing defaulted, implied or checked yet."""

    model: str | None = None
    task: Task = Task.TRANSCRIBE
    language: str | None = None
    languages: tuple[str, ...] = ()
    prompt: str | None = None
    keywords: tuple[str, ...] = ()
    temperature: float = 0.0
    response_format: ResponseFormat = ResponseFormat.JSON
    timestamp_granularities: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    chunking_strategy: VadChunking | None = None
    diarize: bool | None = None  # None: the default for the model (see OptionsBuilder)
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    known_speakers: tuple[ReferenceClip, ...] = ()
    detect_paragraphs: bool = False
    detect_entities: bool = False
    detect_sentiment: bool = False
    text_rules: tuple[str, ...] = ()


class OptionsBuilder:
    """Applies the server's rules to requests.

    - ``diarize`` left out: OpenAI's model ids behave as OpenAI's (speakers only when the request
      asks: ``diarized_json``, known speakers, ``gpt-4o-transcribe-diarize``, or a speaker-count
      hint); the service's
      own ids (and no id) follow the server's default (on when a diarizer is configured and
      ``diarize_by_default`` is set). ``diarized_json``, known speakers and
      ``gpt-4o-transcribe-diarize`` always imply it.
    - The model must name a served engine able to do what the request needs (translate, give
      word probabilities, transcribe the language); OpenAI's ids pick such an engine.
    - Languages are normalised (``en-US`` -> ``en``); post-processing steps reject what they
      cannot honour; speaker hints, temperature, granularities, ``include`` and known-speaker
      clips are checked.
    """

    def __init__(
        self,
        engines: AsrEngines,
        decoder: AudioDecoder,
        *,
        diarizer_available: bool,
        diarize_by_default: bool,
        post_processors: Sequence[PostProcessor] = (),
    ) -> None:
        self._engines = engines
        self._decoder = decoder
        self._diarizer_available = diarizer_available
        self._diarize_by_default = diarize_by_default
        self._post_processors = tuple(post_processors)

    @property
    def text_rule_sets(self) -> tuple[str, ...]:
        """The text rule sets a request may name (from the post-processing step that has them)."""
        names: tuple[str, ...] = ()
        for step in self._post_processors:
            names += tuple(getattr(step, "names", ()))
        return names

    def build(self, request: TranscriptionRequest) -> TranscriptionOptions:
        """Validated options for ``request``; raises InvalidRequest (or UnknownModel) if it is
        not one this server can honour. Decodes the known speakers' clips (small, but I/O).

        ``options.model`` is the name of the engine that will run it.
        """
        _check_lengths(request)
        if not 0.0 <= request.temperature <= 1.0:
            raise InvalidRequest(
                f"temperature must be between 0 and 1, got {request.temperature}.",
                param="temperature",
            )
        words, segments = self._granularities(request)
        logprobs = self._logprobs(request)
        language = _language(request.language)
        languages = tuple(
            dict.fromkeys(language_code(v, param="languages") for v in request.languages if v)
        )
        if language is None and len(languages) == 1:
            language = languages[0]  # one candidate: no need to detect
        model = (request.model or "").strip() or None
        choice = self._engines.choose(
            model, Needs(task=request.task, word_probabilities=logprobs, language=language)
        )
        diarize = self._diarize(request, choice)
        options = TranscriptionOptions(
            model=choice.engine.name,
            task=request.task,
            language=language,
            languages=languages,
            prompt=request.prompt or None,
            keywords=tuple(dict.fromkeys(k.strip() for k in request.keywords if k.strip())),
            temperature=request.temperature,
            chunking=request.chunking_strategy,
            word_timestamps=words,
            segment_timestamps=segments,
            logprobs=logprobs,
            diarize=diarize,
            speakers=SpeakerHints(request.num_speakers, request.min_speakers, request.max_speakers),
            detect_paragraphs=request.detect_paragraphs,
            detect_entities=request.detect_entities,
            detect_sentiment=request.detect_sentiment,
            text_rules=tuple(r.strip() for r in request.text_rules if r.strip()),
        )
        for step in self._post_processors:
            step.validate(options)
        if not request.known_speakers:
            return options
        return replace(options, known_speakers=self._known_speakers(request.known_speakers))

    @staticmethod
    def _granularities(request: TranscriptionRequest) -> tuple[bool, bool]:
        """(words, segments) wanted in verbose_json; OpenAI sends segments unless only words
        were asked for."""
        asked = {g.strip() for g in request.timestamp_granularities if g.strip()}
        unknown = sorted(asked - set(GRANULARITIES))
        if unknown:
            raise InvalidRequest(
                f"timestamp_granularities has {', '.join(map(repr, unknown))}; the choices are "
                "'word' and 'segment'.",
                param="timestamp_granularities",
                code="invalid_value",
            )
        if asked and request.response_format is not ResponseFormat.VERBOSE_JSON:
            raise InvalidRequest(
                "timestamp_granularities is only supported with response_format=verbose_json.",
                param="timestamp_granularities",
            )
        return "word" in asked, "segment" in asked or "word" not in asked

    @staticmethod
    def _logprobs(request: TranscriptionRequest) -> bool:
        asked = {i.strip() for i in request.include if i.strip()}
        unknown = sorted(asked - set(INCLUDES))
        if unknown:
            raise InvalidRequest(
                f"include has {', '.join(map(repr, unknown))}; the only choice is 'logprobs'.",
                param="include",
                code="invalid_value",
            )
        if asked and request.response_format is not ResponseFormat.JSON:
            raise InvalidRequest(
                "include[]=logprobs only works with response_format=json (as in OpenAI's API).",
                param="include",
            )
        return "logprobs" in asked

    def _diarize(self, request: TranscriptionRequest, choice: ModelChoice) -> bool:
        implied = (
            request.response_format.names_speakers
            or bool(request.known_speakers)
            or choice.diarizes
        )
        if request.diarize is None:
            hints = (request.num_speakers, request.min_speakers, request.max_speakers)
            hinted = any(n is not None for n in hints)  # a speaker count asks for speakers
            default = self._diarizer_available and self._diarize_by_default and not choice.openai_id
            diarize = implied or hinted or default
        else:
            diarize = request.diarize or implied
        if diarize and not self._diarizer_available:
            raise InvalidRequest(
                "Speaker diarization is turned off on this server (SCRIBE_DIARIZER=none).",
                param="diarize",
            )
        return diarize

    def _known_speakers(self, clips: Sequence[ReferenceClip]) -> tuple[KnownSpeaker, ...]:
        names = [clip.name.strip() for clip in clips]
        if len(clips) > MAX_KNOWN_SPEAKERS:
            raise InvalidRequest(
                f"At most {MAX_KNOWN_SPEAKERS} known speakers are supported.",
                param="known_speaker_names",
            )
        if not all(names):
            raise InvalidRequest(
                "known_speaker_names[] has an empty name.", param="known_speaker_names"
            )
        if len(set(names)) != len(names):
            raise InvalidRequest(
                "known_speaker_names[] has duplicates.", param="known_speaker_names"
            )
        reserved = [n for n in names if is_generated_label(n)]
        if reserved:
            raise InvalidRequest(
                f"known_speaker_names[] has {reserved[0]!r}, which has the shape of the labels "
                "given to unnamed speakers; choose another name.",
                param="known_speaker_names",
            )
        speakers = []
        low, high = REFERENCE_SECONDS
        for index, (name, clip) in enumerate(zip(names, clips, strict=True)):
            param = f"known_speaker_references[{index}]"
            try:
                audio = self._decoder.decode(io.BytesIO(clip.data))
            except InvalidAudio as exc:
                raise InvalidRequest(
                    f"{param} ({name}) is not usable audio: {exc.message}",
                    param="known_speaker_references",
                ) from None
            if not low - _REFERENCE_SLACK <= audio.duration <= high + _REFERENCE_SLACK:
                raise InvalidRequest(
                    f"{param} ({name}) is {audio.duration:.1f} s long; reference clips must be "
                    f"{low:g} to {high:g} s.",
                    param="known_speaker_references",
                )
            speakers.append(KnownSpeaker(name=name, audio=audio))
        return tuple(speakers)


def _check_lengths(request: TranscriptionRequest) -> None:
    if request.prompt is not None and len(request.prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest(
            f"prompt is {len(request.prompt)} characters long; at most {MAX_PROMPT_CHARS} are "
            "accepted.",
            param="prompt",
        )
    for param, value in (("model", request.model), ("language", request.language)):
        if value is not None and len(value) > MAX_NAME_CHARS:
            raise InvalidRequest(
                f"{param} is too long (at most {MAX_NAME_CHARS} characters).", param=param
            )
    if len(request.text_rules) > MAX_TEXT_RULES or any(
        len(r) > MAX_NAME_CHARS for r in request.text_rules
    ):
        raise InvalidRequest(
            f"text_rules[] takes at most {MAX_TEXT_RULES} names of at most {MAX_NAME_CHARS} "
            "characters.",
            param="text_rules",
        )


def _language(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return language_code(value)
