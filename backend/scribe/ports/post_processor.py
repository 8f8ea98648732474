from __future__ import annotations

from typing import Protocol

from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import Transcript


class PostProcessor(Protocol):
    """One optional step after attribution (text rules, paragraphs, entities, sentiment).

    ``validate`` rejects options the step cannot honour before any audio is processed;
    ``wanted`` says whether the request asked for it; ``apply`` returns a new transcript.
    """

    def validate(self, options: TranscriptionOptions) -> None: ...

    def wanted(self, options: TranscriptionOptions) -> bool: ...

    def apply(self, transcript: Transcript, options: TranscriptionOptions) -> Transcript: ...
