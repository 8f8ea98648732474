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
from scribe.domain.options import KnownSpeaker, SpeakerHints, TranscriptionOptions
from scribe.domain.response_format import ResponseFormat
from scribe.ports.audio_decoder import AudioDecoder
from scribe.ports.post_processor import PostProcessor

from .engines import AsrEngines

MAX_KNOWN_SPEAKERS = 10
# Bounds on text fields, so that no field of megabytes reaches an engine.
MAX_PROMPT_CHARS = 4000
MAX_NAME_CHARS = 100  # model, language, text rule set names
MAX_TEXT_RULES = 20
# OpenAI asks for reference clips of 2-10 s; a little slack either way.
REFERENCE_SECONDS = (1.5, 12.0)


@dataclass(frozen=True)
class ReferenceClip:
    """A known speaker's name and a short recording of their voice, as uploaded (any format)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class TranscriptionRequest:
    """What a client asked for, as it asked it: nothing defaulted, implied or checked yet."""

    model: str | None = None
    language: str | None = None
    prompt: str | None = None
    temperature: float = 0.0
    response_format: ResponseFormat = ResponseFormat.JSON
    word_timestamps: bool = False
    diarize: bool | None = None  # None: the server's default
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

    - ``diarize`` left out follows the server's default (on when a diarizer is configured and
      ``diarize_by_default`` is set); ``diarized_json`` and known speakers imply it.
    - The model must name a served engine; post-processing steps reject what they cannot honour;
      speaker hints, temperature and known-speaker clips are checked.
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
        not one this server can honour. Decodes the known speakers' clips (small, but I/O)."""
        _check_lengths(request)
        if not 0.0 <= request.temperature <= 1.0:
            raise InvalidRequest(
                f"temperature must be between 0 and 1, got {request.temperature}.",
                param="temperature",
            )
        model = (request.model or "").strip() or None
        self._engines.select(model)
        diarize = self._diarize(request)
        options = TranscriptionOptions(
            model=model,
            language=(request.language or "").strip().lower() or None,
            prompt=request.prompt or None,
            temperature=request.temperature,
            word_timestamps=request.word_timestamps,
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

    def _diarize(self, request: TranscriptionRequest) -> bool:
        implied = request.response_format.names_speakers or bool(request.known_speakers)
        if request.diarize is None:
            diarize = implied or (self._diarizer_available and self._diarize_by_default)
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
            if not low <= audio.duration <= high:
                raise InvalidRequest(
                    f"{param} ({name}) is {audio.duration:.1f} s long; reference clips must be "
                    "2 to 10 s.",
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
