from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from scribe.domain.audio import Audio
from scribe.domain.cancellation import CancelToken
from scribe.domain.options import KnownSpeaker, SpeakerHints
from scribe.domain.transcript import Diarization


class Diarizer(Protocol):
    """Speaker diarization: who spoke when.

    Labels are arbitrary strings; the use case renames them in order of first appearance.
    """

    @property
    def name(self) -> str: ...

    def load(self) -> None:
        """Load the models once (idempotent, thread-safe); raise ModelUnavailable if it cannot."""
        ...

    def diarize(
        self, audio: Audio, hints: SpeakerHints, cancel: CancelToken | None = None
    ) -> Diarization:
        """Speaker turns (overlapping where two talk at once) and, where the diarizer has them,
        one voiceprint per label. Checks ``cancel`` between steps of its work (a few seconds of
        CPU apart at most) and raises ``Cancelled`` once it is set, so that a cancelled or
        failed transcription does not leave the diarizer running to the end."""
        ...

    def identify(
        self, audio: Audio, diarization: Diarization, known: Sequence[KnownSpeaker]
    ) -> dict[str, str]:
        """Map diarizer labels to the names of known speakers whose voice they match, reusing
        the voiceprints of ``diarization`` where it has them."""
        ...
