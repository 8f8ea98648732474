"""Turn the multipart form of a transcription request into domain options."""

from __future__ import annotations

import base64
import binascii
import io
import re

from scribe.domain.errors import InvalidAudio, InvalidRequest
from scribe.domain.options import KnownSpeaker, SpeakerHints, TranscriptionOptions
from scribe.ports.audio_decoder import AudioDecoder

_DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[\w.-]+)*;base64,(?P<data>.*)$", re.S
)
MAX_KNOWN_SPEAKERS = 10
REFERENCE_SECONDS = (1.5, 12.0)  # OpenAI asks for 2-10 s; a little slack either way


def known_speakers(
    names: list[str] | None, references: list[str] | None, decoder: AudioDecoder
) -> tuple[KnownSpeaker, ...]:
    """Pair ``known_speaker_names[]`` with ``known_speaker_references[]`` (audio data URLs)."""
    names = [n.strip() for n in names or [] if n.strip()]
    references = references or []
    if not names and not references:
        return ()
    if len(names) != len(references):
        raise InvalidRequest(
            f"known_speaker_names[] has {len(names)} entries but known_speaker_references[] has "
            f"{len(references)}; give one reference clip per name.",
            param="known_speaker_references",
        )
    if len(names) > MAX_KNOWN_SPEAKERS:
        raise InvalidRequest(
            f"At most {MAX_KNOWN_SPEAKERS} known speakers are supported.",
            param="known_speaker_names",
        )
    if len(set(names)) != len(names):
        raise InvalidRequest("known_speaker_names[] has duplicates.", param="known_speaker_names")
    speakers = []
    for index, (name, url) in enumerate(zip(names, references, strict=True)):
        param = f"known_speaker_references[{index}]"
        match = _DATA_URL.match(url.strip())
        if not match:
            raise InvalidRequest(
                f"{param} must be a base64 data URL such as 'data:audio/wav;base64,...'.",
                param="known_speaker_references",
            )
        try:
            raw = base64.b64decode(match["data"], validate=False)
        except (binascii.Error, ValueError):
            raise InvalidRequest(
                f"{param} is not valid base64.", param="known_speaker_references"
            ) from None
        try:
            audio = decoder.decode(io.BytesIO(raw))
        except InvalidAudio as exc:
            raise InvalidRequest(
                f"{param} ({name}) is not usable audio: {exc.message}",
                param="known_speaker_references",
            ) from None
        low, high = REFERENCE_SECONDS
        if not low <= audio.duration <= high:
            raise InvalidRequest(
                f"{param} ({name}) is {audio.duration:.1f} s long; reference clips must be 2 to 10 s.",
                param="known_speaker_references",
            )
        speakers.append(KnownSpeaker(name=name, audio=audio))
    return tuple(speakers)


def transcription_options(
    *,
    model: str | None,
    language: str | None,
    prompt: str | None,
    temperature: float,
    word_timestamps: bool,
    diarize: bool,
    num_speakers: int | None,
    min_speakers: int | None,
    max_speakers: int | None,
    detect_paragraphs: bool,
    detect_entities: bool,
    detect_sentiment: bool,
    text_rules: list[str] | None,
) -> TranscriptionOptions:
    if not 0.0 <= temperature <= 1.0:
        raise InvalidRequest(
            f"temperature must be between 0 and 1, got {temperature}.", param="temperature"
        )
    if language is not None:
        language = language.strip().lower() or None
    return TranscriptionOptions(
        model=(model or "").strip() or None,
        language=language,
        prompt=prompt or None,
        temperature=temperature,
        word_timestamps=word_timestamps,
        diarize=diarize,
        speakers=SpeakerHints(num_speakers, min_speakers, max_speakers),
        detect_paragraphs=detect_paragraphs,
        detect_entities=detect_entities,
        detect_sentiment=detect_sentiment,
        text_rules=tuple(r.strip() for r in text_rules or [] if r.strip()),
    )
