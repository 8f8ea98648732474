"""The formats a transcript can be returned in (the names OpenAI's API uses)."""

from __future__ import annotations

from enum import StrEnum


class ResponseFormat(StrEnum):
    """Every output format; the API, the CLI and job results all take their names from here."""

    JSON = "json"
    TEXT = "text"
    SRT = "srt"
    VERBOSE_JSON = "verbose_json"
    VTT = "vtt"
    DIARIZED_JSON = "diarized_json"

    @property
    def names_speakers(self) -> bool:
        """Whether the format exists to say who spoke (so asking for it asks for diarization)."""
        return self is ResponseFormat.DIARIZED_JSON
