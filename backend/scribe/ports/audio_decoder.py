from __future__ import annotations

from typing import BinaryIO, Protocol

from scribe.domain.audio import Audio


class AudioDecoder(Protocol):
    """Turns an uploaded file of any common audio or video format into 16 kHz mono float32.

    Raises ``InvalidAudio`` for empty, corrupt or non-audio input.
    """

    def decode(self, source: BinaryIO) -> Audio: ...
