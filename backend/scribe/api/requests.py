"""Wire-format pieces of a transcription request that need parsing before the use case sees them."""

from __future__ import annotations

import base64
import binascii
import re

from scribe.domain.errors import InvalidRequest
from scribe.use_cases.options import ReferenceClip

_DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[\w.-]+)*;base64,(?P<data>.*)$", re.S
)


def reference_clips(
    names: list[str] | None, references: list[str] | None
) -> tuple[ReferenceClip, ...]:
    """Pair ``known_speaker_names[]`` with ``known_speaker_references[]`` (audio data URLs)."""
    names = [n.strip() for n in names or [] if n.strip()]
    references = references or []
    if len(names) != len(references):
        raise InvalidRequest(
            f"known_speaker_names[] has {len(names)} entries but known_speaker_references[] has "
            f"{len(references)}; give one reference clip per name.",
            param="known_speaker_references",
        )
    clips = []
    for index, (name, url) in enumerate(zip(names, references, strict=True)):
        param = f"known_speaker_references[{index}]"
        match = _DATA_URL.match(url.strip())
        if not match:
            raise InvalidRequest(
                f"{param} must be a base64 data URL such as 'data:audio/wav;base64,...'.",
                param="known_speaker_references",
            )
        try:
            data = base64.b64decode(match["data"], validate=False)
        except (binascii.Error, ValueError):
            raise InvalidRequest(
                f"{param} is not valid base64.", param="known_speaker_references"
            ) from None
        clips.append(ReferenceClip(name=name, data=data))
    return tuple(clips)
