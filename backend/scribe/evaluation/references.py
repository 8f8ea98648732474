"""Reading reference files: NIST RTTM speaker turns, UEM scored regions, plain transcripts."""

from __future__ import annotations

from pathlib import Path

from scribe.domain.errors import InvalidRequest
from scribe.domain.transcript import SpeakerTurn

Region = tuple[float, float]


def read_rttm(path: str | Path) -> list[SpeakerTurn]:
    """Speaker turns from an RTTM file (``SPEAKER`` lines only), sorted by start time.

    Columns: type, file, channel, onset, duration, ortho, stype, name, conf. All files named in
    it are read as one recording (the evaluation RTTMs hold one recording each).
    """
    turns: list[SpeakerTurn] = []
    for number, line in enumerate(_lines(path), start=1):
        fields = line.split()
        if fields[0].upper() != "SPEAKER":
            continue
        if len(fields) < 8:
            raise InvalidRequest(f"{path}:{number}: an RTTM SPEAKER line needs 8 or more fields.")
        try:
            onset, duration = float(fields[3]), float(fields[4])
        except ValueError:
            raise InvalidRequest(f"{path}:{number}: onset and duration must be numbers.") from None
        if duration > 0:
            turns.append(SpeakerTurn(onset, onset + duration, fields[7]))
    return sorted(turns, key=lambda t: (t.start, t.end))


def read_uem(path: str | Path) -> list[Region]:
    """Scored regions from a UEM file (``uri channel start end`` per line)."""
    regions: list[Region] = []
    for number, line in enumerate(_lines(path), start=1):
        fields = line.split()
        if len(fields) < 4:
            raise InvalidRequest(
                f"{path}:{number}: a UEM line needs 4 fields: uri channel start end."
            )
        try:
            start, end = float(fields[2]), float(fields[3])
        except ValueError:
            raise InvalidRequest(f"{path}:{number}: start and end must be numbers.") from None
        if end > start:
            regions.append((start, end))
    return sorted(regions)


def read_text(path: str | Path) -> str:
    """A reference transcript: the whole file as one string."""
    return Path(path).read_text(encoding="utf-8").strip()


def write_rttm(turns: list[SpeakerTurn], uri: str) -> str:
    """Speaker turns as RTTM text (for saving a hypothesis next to its reference)."""
    return "".join(
        f"SPEAKER {uri} 1 {t.start:.3f} {t.duration:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in turns
    )


def _lines(path: str | Path) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidRequest(f"Reference file not found: {path}") from None
    return [line for line in (raw.strip() for raw in text.splitlines()) if line and line[0] != "#"]
