from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from scribe.domain.audio import Audio
from scribe.domain.options import KnownSpeaker, SpeakerHints
from scribe.domain.transcript import SpeakerTurn


class Diarizer(Protocol):
    """Speaker diarization: who spoke when.

    Labels are arbitrary strings; the use case renames them in order of first appearance.
    """

    @property
    def name(self) -> str: ...

    def load(self) -> None:
        """Load the models once (idempotent, thread-safe); raise ModelUnavailable if it cannot."""
        ...

    def diarize(self, audio: Audio, hints: SpeakerHints) -> list[SpeakerTurn]: ...

    def identify(
        self, audio: Audio, turns: Sequence[SpeakerTurn], known: Sequence[KnownSpeaker]
    ) -> dict[str, str]:
        """Map diarizer labels to the names of known speakers whose voice they match."""
        ...
