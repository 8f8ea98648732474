"""PyAVDecoder: real clips re-encoded at test time into every supported format, and bad input.

Each round trip encodes a short slice with PyAV (into memory), decodes it with the adapter and
checks the contract: 16 kHz, mono, float32 in [-1, 1], the original duration, and a loudness
envelope that follows the original (so a decoder that returned silence or noise would fail).
"""

from __future__ import annotations

import io
import struct
import tempfile
import time
import wave
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest

from scribe.adapters.audio.pyav_decoder import PyAVDecoder
from scribe.domain.audio import Audio
from scribe.domain.errors import InvalidAudio

F32 = npt.NDArray[np.float32]
SLICE_S = (0.3, 3.3)  # 3 s of speech from each clip


# --------------------------------------------------------------------------- helpers


def load(path: Path, rate: int | None = None, layout: str | None = None) -> tuple[F32, int]:
    """A clip as planar float32 (channels, samples), optionally converted with PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        parts = []
        out_rate = 0
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray())
                out_rate = out.sample_rate
        for out in resampler.resample(None):
            parts.append(out.to_ndarray())
    return np.concatenate(parts, axis=1).astype(np.float32), out_rate


def clip(path: Path, rate: int | None = None, layout: str | None = None) -> tuple[F32, int]:
    """The 3 s test slice of a clip."""
    samples, sr = load(path, rate, layout)
    return samples[:, int(SLICE_S[0] * sr) : int(SLICE_S[1] * sr)], sr


def synthetic(rate: int = 44_100, seconds: float = 3.0, channels: int = 1) -> F32:
    """Speech-like test signal: tones in 'syllables' of changing loudness, with pauses."""
    t = np.arange(int(rate * seconds)) / rate
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t) * np.sin(2 * np.pi * 0.4 * t + 0.3), 0, None)
    tone = np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 660 * t + 1.0)
    mono = (0.4 * envelope * tone).astype(np.float32)
    return np.tile(mono, (channels, 1))


def _to_frame_array(block: F32, sample_fmt: str) -> npt.NDArray[Any]:
    fmt = av.AudioFormat(sample_fmt)
    data = block if fmt.is_planar else block.T.reshape(1, -1)
    base = fmt.packed.name
    if base == "s16":
        return np.round(data * 32767).astype(np.int16)
    if base == "s32":
        return np.round(data.astype(np.float64) * 2_147_483_647).astype(np.int32)
    if base == "u8":
        return np.round(data * 127 + 128).astype(np.uint8)
    if base == "dbl":
        return np.ascontiguousarray(data, dtype=np.float64)
    return np.ascontiguousarray(data, dtype=np.float32)


@dataclass(frozen=True)
class Spec:
    """How to encode one test file."""

    container: str
    codec: str
    sample_fmt: str
    rate: int
    layout: str = "mono"
    options: dict[str, str] = field(default_factory=dict)
    video: str | None = None  # add a tiny video stream first, with this codec


def encode(samples: F32, spec: Spec) -> bytes:
    """Encode planar float samples (already at spec.rate) into an in-memory file."""
    layout = av.AudioLayout(spec.layout)
    if samples.shape[0] != layout.nb_channels:
        samples = np.tile(samples.mean(axis=0), (layout.nb_channels, 1))
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=spec.container) as out:
        video: Any = None
        if spec.video:
            video = out.add_stream(spec.video, rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio: Any = out.add_stream(
            spec.codec, rate=spec.rate, layout=spec.layout, options=spec.options
        )
        audio.format = spec.sample_fmt
        block = 1024
        next_video = 0.0
        for i in range(0, samples.shape[1], block):
            frame = av.AudioFrame.from_ndarray(
                _to_frame_array(samples[:, i : i + block], spec.sample_fmt),
                format=spec.sample_fmt,
                layout=spec.layout,
            )
            frame.sample_rate = spec.rate
            frame.pts = i
            for packet in audio.encode(frame):
                out.mux(packet)
            while video is not None and next_video <= i / spec.rate:
                picture = np.full((48, 64, 3), int(next_video * 40) % 256, np.uint8)
                vframe = av.VideoFrame.from_ndarray(picture, format="rgb24")
                vframe.pts = round(next_video * 10)
                for packet in video.encode(vframe):
                    out.mux(packet)
                next_video += 0.1
        for packet in audio.encode(None):
            out.mux(packet)
        if video is not None:
            for packet in video.encode(None):
                out.mux(packet)
    return buf.getvalue()


def envelope(mono: npt.NDArray[Any], rate: int, frame_s: float = 0.05) -> npt.NDArray[np.float64]:
    """RMS loudness in frames of 50 ms."""
    n = int(rate * frame_s)
    k = len(mono) // n
    framed = np.asarray(mono[: k * n], dtype=np.float64).reshape(k, n)
    return np.asarray(np.sqrt((framed**2).mean(axis=1)))


def similarity(original: F32, rate: int, decoded: Audio) -> float:
    """Correlation of the 50 ms RMS envelopes (best of lags -1, 0, +1 frames)."""
    a = envelope(original.mean(axis=0), rate)
    b = envelope(decoded.samples, decoded.sample_rate)
    best = -1.0
    for lag in (-1, 0, 1):
        x, y = (a[lag:], b) if lag >= 0 else (a, b[-lag:])
        m = min(len(x), len(y))
        if m < 2 or x[:m].std() == 0 or y[:m].std() == 0:
            continue  # silence (or nothing) correlates with nothing
        best = max(best, float(np.corrcoef(x[:m], y[:m])[0, 1]))
    return best


def check_contract(decoded: Audio, original: F32, rate: int, tolerance_s: float = 0.1) -> None:
    """The port's promises, and that the decoded sound is the original one."""
    assert isinstance(decoded, Audio)
    assert decoded.sample_rate == 16_000
    assert decoded.samples.dtype == np.float32
    assert decoded.samples.ndim == 1
    assert decoded.samples.flags.c_contiguous
    assert np.all(np.isfinite(decoded.samples))
    assert float(np.abs(decoded.samples).max()) <= 1.0
    expected = original.shape[1] / rate
    assert abs(decoded.duration - expected) <= tolerance_s, (decoded.duration, expected)
    assert similarity(original, rate, decoded) > 0.9


def png_bytes() -> bytes:
    """A valid 8x8 RGB PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + bytes(range(24)) for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def wav_int16(samples: npt.NDArray[np.int16], rate: int, extra_chunk: bytes = b"") -> bytes:
    """A 16-bit mono WAV written by hand (optionally with an extra RIFF chunk before data)."""
    data = samples.astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunk
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


class NonSeekable(io.RawIOBase):
    """A pipe-like reader: read() only, no seeking."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class CountingReader(io.BytesIO):
    """A seekable reader that counts the bytes handed out."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


@pytest.fixture(scope="module")
def decoder() -> PyAVDecoder:
    return PyAVDecoder()


# --------------------------------------------------------------------------- real clips

ROUND_TRIPS: dict[str, Spec] = {
    "wav_s16_44k_stereo": Spec("wav", "pcm_s16le", "s16", 44_100, "stereo"),
    "wav_u8_8k": Spec("wav", "pcm_u8", "u8", 8_000),
    "wav_s24_48k": Spec("wav", "pcm_s24le", "s32", 48_000),
    "wav_s32_44k_stereo": Spec("wav", "pcm_s32le", "s32", 44_100, "stereo"),
    "wav_f32_48k_stereo": Spec("wav", "pcm_f32le", "flt", 48_000, "stereo"),
    "wav_f64_22k": Spec("wav", "pcm_f64le", "dbl", 22_050),
    "wav_s16_8k_5.1": Spec("wav", "pcm_s16le", "s16", 8_000, "5.1"),
    "mp3_44k_stereo": Spec("mp3", "libmp3lame", "fltp", 44_100, "stereo"),
    "mp3_16k": Spec("mp3", "libmp3lame", "s16p", 16_000),
    "flac_44k_stereo": Spec("flac", "flac", "s16", 44_100, "stereo"),
    "flac_24bit_48k": Spec("flac", "flac", "s32", 48_000),
    "m4a_aac_44k_stereo": Spec("ipod", "aac", "fltp", 44_100, "stereo"),
    "ogg_opus_48k": Spec("ogg", "libopus", "flt", 48_000),
    "ogg_vorbis_44k_stereo": Spec(
        "ogg", "vorbis", "fltp", 44_100, "stereo", {"strict": "experimental"}
    ),
    "webm_opus_48k_stereo": Spec("webm", "libopus", "flt", 48_000, "stereo"),
    "mp4_video_aac": Spec("mp4", "aac", "fltp", 44_100, "stereo", video="mpeg4"),
    "mkv_video_mp3": Spec("matroska", "libmp3lame", "fltp", 48_000, video="mpeg4"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ROUND_TRIPS))
def test_round_trip_real_speech(
    name: str, eval_dir: Path, decoder: PyAVDecoder, tmp_path: Path
) -> None:
    spec = ROUND_TRIPS[name]
    original, rate = clip(eval_dir / "jfk.flac", rate=spec.rate)
    data = encode(original, spec)
    path = tmp_path / f"clip.{spec.container}"
    path.write_bytes(data)
    with path.open("rb") as f:  # the CLI passes an open file
        decoded = decoder.decode(f)
    check_contract(decoded, original, rate)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["jfk.flac", "librispeech_2412-153948-0000.flac"])
def test_eval_flac_files_decode(name: str, eval_dir: Path, decoder: PyAVDecoder) -> None:
    original, rate = load(eval_dir / name)
    with (eval_dir / name).open("rb") as f:
        decoded = decoder.decode(f)
    check_contract(decoded, original, rate, tolerance_s=0.02)


@pytest.mark.slow
def test_16k_mono_wav_is_bit_exact(eval_dir: Path, decoder: PyAVDecoder) -> None:
    """16 kHz mono 16-bit WAV needs no resampling: samples are exactly int16 / 32768."""
    path = eval_dir / "pyannote_sample.wav"
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16_000, 1, 2)
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    with path.open("rb") as f:
        decoded = decoder.decode(f)
    np.testing.assert_array_equal(decoded.samples, raw.astype(np.float32) / 32768)


@pytest.mark.slow
def test_stereo_is_mixed_to_the_mean_of_both_channels(eval_dir: Path, decoder: PyAVDecoder) -> None:
    """Two different voices, one per channel: mono is (L + R) / 2, with no +3 dB gain."""
    path = eval_dir / "stereo_two_voices.wav"
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16_000, 2, 2)
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    expected = raw.astype(np.float32).mean(axis=1) / 32768
    with path.open("rb") as f:
        decoded = decoder.decode(f)
    np.testing.assert_allclose(decoded.samples, expected, atol=1e-4)


@pytest.mark.slow
def test_first_audio_stream_is_chosen(eval_dir: Path, decoder: PyAVDecoder) -> None:
    """Video first, then speech, then a second audio track of a steady tone: speech wins."""
    speech, rate = clip(eval_dir / "librispeech_2412-153948-0000.flac", rate=48_000)
    tone = (0.3 * np.sin(2 * np.pi * 300 * np.arange(speech.shape[1]) / rate)).astype(np.float32)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="matroska") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        tracks = [out.add_stream("pcm_s16le", rate=rate, layout="mono") for _ in range(2)]
        for stream, signal in zip(tracks, (speech[0], tone), strict=True):
            frame = av.AudioFrame.from_ndarray(
                np.round(signal * 32767).astype(np.int16)[None, :], format="s16", layout="mono"
            )
            frame.sample_rate, frame.pts = rate, 0
            for packet in stream.encode(frame):
                out.mux(packet)
        vframe = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
        vframe.pts = 0
        for packet in [*video.encode(vframe), *video.encode(None)]:
            out.mux(packet)
    decoded = decoder.decode(io.BytesIO(buf.getvalue()))
    check_contract(decoded, speech, rate)


@pytest.mark.slow
def test_decode_time_of_eval_clips_is_small(eval_dir: Path, decoder: PyAVDecoder) -> None:
    """Decoding is cheap next to ASR: far below real time even on a busy 2-core machine."""
    for name, audio_s in (("pyannote_sample.wav", 30.0), ("jfk.flac", 11.0)):
        with (eval_dir / name).open("rb") as f:
            start = time.perf_counter()
            decoded = decoder.decode(f)
            elapsed = time.perf_counter() - start
        assert abs(decoded.duration - audio_s) < 0.05
        assert elapsed < audio_s / 20, f"{name}: {elapsed:.3f} s to decode {audio_s} s"


# --------------------------------------------------------------------------- synthetic audio


@pytest.mark.parametrize(
    "spec",
    [
        Spec("wav", "pcm_s16le", "s16", 16_000),
        Spec("mp3", "libmp3lame", "fltp", 44_100, "stereo"),
        Spec("ogg", "libopus", "flt", 48_000),
        Spec("ipod", "aac", "fltp", 22_050),
    ],
    ids=["wav16k", "mp3", "opus", "m4a"],
)
def test_round_trip_synthetic(spec: Spec, decoder: PyAVDecoder) -> None:
    original = synthetic(spec.rate)
    decoded = decoder.decode(io.BytesIO(encode(original, spec)))
    check_contract(decoded, original, spec.rate)


def test_loud_float_wav_is_clipped_and_nan_free(decoder: PyAVDecoder) -> None:
    original = synthetic(16_000) * 4  # peaks far beyond full scale
    original[0, 100:110] = np.nan
    decoded = decoder.decode(io.BytesIO(encode(original, Spec("wav", "pcm_f32le", "flt", 16_000))))
    assert np.all(np.isfinite(decoded.samples))
    assert float(np.abs(decoded.samples).max()) == 1.0
    assert decoded.duration == pytest.approx(3.0, abs=0.01)


def test_rate_change_mid_stream_is_followed(decoder: PyAVDecoder) -> None:
    """Two MP3s glued together (44.1 kHz, then 22.05 kHz) decode to both parts, in order."""
    first = synthetic(44_100)
    second = synthetic(22_050)[:, ::-1].copy()  # reversed, so the two halves differ
    data = encode(first, Spec("mp3", "libmp3lame", "fltp", 44_100)) + encode(
        second, Spec("mp3", "libmp3lame", "fltp", 22_050)
    )
    decoded = decoder.decode(io.BytesIO(data))
    assert decoded.duration == pytest.approx(6.0, abs=0.15)
    half = int(3.0 * 16_000)
    expected_first = load_like(first, 44_100)
    assert similarity(expected_first, 16_000, Audio(decoded.samples[:half])) > 0.9
    expected_second = load_like(second, 22_050)
    tail = Audio(decoded.samples[-half:])
    assert similarity(expected_second, 16_000, tail) > 0.9


def load_like(samples: F32, rate: int) -> F32:
    """Planar samples resampled to 16 kHz with numpy (for envelope comparison only)."""
    n = int(samples.shape[1] * 16_000 / rate)
    x = np.linspace(0, samples.shape[1] - 1, n)
    resampled = np.interp(x, np.arange(samples.shape[1]), samples.mean(axis=0))
    return np.asarray(resampled[None, :], dtype=np.float32)


@pytest.mark.parametrize(
    "spec",
    [Spec("mp3", "libmp3lame", "fltp", 44_100), Spec("flac", "flac", "s16", 44_100)],
    ids=["mp3", "flac"],
)
def test_corrupt_middle_keeps_what_decodes(spec: Spec, decoder: PyAVDecoder) -> None:
    original = synthetic(spec.rate, seconds=6.0)
    data = bytearray(encode(original, spec))
    n = len(data)
    data[n // 2 : n // 2 + n // 20] = np.random.default_rng(7).bytes(n // 20)
    decoded = decoder.decode(io.BytesIO(bytes(data)))
    assert 3.0 < decoded.duration <= 6.1
    assert decoded.samples.dtype == np.float32
    head = Audio(decoded.samples[: 2 * 16_000])
    assert similarity(original[:, : 2 * spec.rate], spec.rate, head) > 0.9


@pytest.mark.parametrize(
    "spec",
    [Spec("mp3", "libmp3lame", "fltp", 44_100), Spec("flac", "flac", "s16", 44_100)],
    ids=["mp3", "flac"],
)
def test_truncated_file_gives_its_first_part(spec: Spec, decoder: PyAVDecoder) -> None:
    original = synthetic(spec.rate, seconds=4.0)
    data = encode(original, spec)
    decoded = decoder.decode(io.BytesIO(data[: len(data) // 2]))
    assert 0.5 < decoded.duration < 3.5
    part = original[:, : int(decoded.duration * spec.rate)]
    assert similarity(part, spec.rate, decoded) > 0.9


# --------------------------------------------------------------------------- file objects


def test_spooled_upload_positioned_at_end_is_rewound(decoder: PyAVDecoder) -> None:
    data = encode(synthetic(16_000), Spec("wav", "pcm_s16le", "s16", 16_000))
    for max_size in (len(data) * 2, 1024):  # in memory, then rolled over to disk
        with tempfile.SpooledTemporaryFile(max_size=max_size) as spooled:
            spooled.write(data)  # the position is now at the end, as after an upload
            decoded = decoder.decode(spooled)  # type: ignore[arg-type]
        assert decoded.duration == pytest.approx(3.0, abs=0.01)


def test_non_seekable_stream(decoder: PyAVDecoder) -> None:
    """An MP4 (index at the end) from a pipe-like reader still decodes."""
    original = synthetic(44_100)
    data = encode(original, Spec("mp4", "aac", "fltp", 44_100, video="mpeg4"))
    decoded = decoder.decode(NonSeekable(data))  # type: ignore[arg-type]
    check_contract(decoded, original, 44_100)


def test_non_utf8_metadata_is_ignored(decoder: PyAVDecoder) -> None:
    info = b"INFO" + b"INAM" + struct.pack("<I", 4) + b"\xff\xfe\xfa\x00"
    extra = b"LIST" + struct.pack("<I", len(info)) + info
    samples = (synthetic(16_000)[0] * 32767).astype(np.int16)
    decoded = decoder.decode(io.BytesIO(wav_int16(samples, 16_000, extra)))
    assert decoded.duration == pytest.approx(3.0, abs=0.01)


def test_header_overstating_the_length_gives_a_compact_array(decoder: PyAVDecoder) -> None:
    """The buffer is sized from the stated length; what is returned holds only the real audio."""
    samples = (synthetic(16_000)[0] * 32767).astype(np.int16)
    real = wav_int16(samples, 16_000)
    data_size = struct.unpack("<I", real[40:44])[0]
    assert data_size == len(samples) * 2
    lying = real[:40] + struct.pack("<I", 3600 * 16_000 * 2) + real[44:]  # says 1 hour
    decoded = decoder.decode(io.BytesIO(lying))
    assert decoded.duration == pytest.approx(3.0, abs=0.01)
    owner = decoded.samples if decoded.samples.base is None else decoded.samples.base
    assert isinstance(owner, np.ndarray) and owner.nbytes < 2 * decoded.samples.nbytes


def test_audio_longer_than_stated_grows_the_buffer(
    decoder: PyAVDecoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no usable length in the container the buffer grows as samples arrive."""
    import scribe.adapters.audio.pyav_decoder as module

    original = synthetic(44_100)
    data = encode(original, Spec("flac", "flac", "s16", 44_100))
    expected = decoder.decode(io.BytesIO(data))
    monkeypatch.setattr(module, "_expected_samples", lambda *_: 0)
    grown = decoder.decode(io.BytesIO(data))
    np.testing.assert_array_equal(grown.samples, expected.samples)
    check_contract(grown, original, 44_100)


# --------------------------------------------------------------------------- limits


def test_too_long_audio_is_rejected() -> None:
    data = encode(synthetic(16_000), Spec("wav", "pcm_s16le", "s16", 16_000))
    with pytest.raises(InvalidAudio) as err:
        PyAVDecoder(max_duration_s=2.5).decode(io.BytesIO(data))
    assert err.value.code == "audio_too_long"
    assert err.value.param == "file"
    assert PyAVDecoder(max_duration_s=3.05).decode(io.BytesIO(data)).duration == pytest.approx(3.0)


def test_too_long_audio_stops_early() -> None:
    """A 60 s file with a 2 s limit is rejected after reading a small part of it."""
    samples = np.tile(synthetic(16_000), (1, 20))
    reader = CountingReader(encode(samples, Spec("wav", "pcm_s16le", "s16", 16_000)))
    with pytest.raises(InvalidAudio) as err:
        PyAVDecoder(max_duration_s=2.0).decode(reader)
    assert err.value.code == "audio_too_long"
    assert reader.bytes_read < len(reader.getvalue()) // 4


def test_invalid_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        PyAVDecoder(max_duration_s=0)


# --------------------------------------------------------------------------- bad input


def _code_of(decoder: PyAVDecoder, data: bytes) -> str | None:
    with pytest.raises(InvalidAudio) as err:
        decoder.decode(io.BytesIO(data))
    assert err.value.param == "file"
    assert len(err.value.message) > 30
    return err.value.code


def test_zero_length_file(decoder: PyAVDecoder) -> None:
    assert _code_of(decoder, b"") == "empty_file"
    with pytest.raises(InvalidAudio) as err:
        decoder.decode(NonSeekable(b""))  # type: ignore[arg-type]
    assert err.value.code == "empty_file"


@pytest.mark.parametrize(
    "data",
    [
        b"Hello, this is a meeting agenda.\nItem 1: budget.\n" * 40,
        b'{"text": "not audio"}',
        b"<html><body>nope</body></html>",
        b"\x00" * 10_000,
        np.random.default_rng(0).bytes(65_536),
        np.random.default_rng(1).bytes(1_000),
    ],
    ids=["text", "json", "html", "zeros", "random64k", "random1k"],
)
def test_not_audio(data: bytes, decoder: PyAVDecoder) -> None:
    assert _code_of(decoder, data) == "invalid_audio"


@pytest.mark.parametrize(
    "data",
    [png_bytes(), b"\x89PNG\r\n\x1a\n" + np.random.default_rng(2).bytes(4_000)],
    ids=["png", "png_header_garbage"],
)
def test_image_has_no_audio_stream(data: bytes, decoder: PyAVDecoder) -> None:
    """FFmpeg recognises an image by its signature: an image has no audio track."""
    assert _code_of(decoder, data) == "no_audio_stream"


def test_video_without_audio_has_no_audio_stream(decoder: PyAVDecoder) -> None:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), "rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    with pytest.raises(InvalidAudio) as err:
        decoder.decode(io.BytesIO(buf.getvalue()))
    assert err.value.code == "no_audio_stream"
    assert "video" in err.value.message


def test_wav_without_samples_is_empty_audio(decoder: PyAVDecoder) -> None:
    assert _code_of(decoder, wav_int16(np.zeros(0, np.int16), 16_000)) == "empty_audio"


@pytest.mark.parametrize(
    ("spec", "keep"),
    [
        (Spec("mp3", "libmp3lame", "fltp", 44_100), 20),
        (Spec("mp3", "libmp3lame", "fltp", 44_100), 100),
        (Spec("flac", "flac", "s16", 44_100), 30),
        (Spec("flac", "flac", "s16", 44_100), 100),
        (Spec("ipod", "aac", "fltp", 44_100), 200),
        (Spec("ogg", "libopus", "flt", 48_000), 60),
    ],
    ids=["mp3_20", "mp3_100", "flac_30", "flac_100", "m4a_200", "opus_60"],
)
def test_truncated_header(spec: Spec, keep: int, decoder: PyAVDecoder) -> None:
    data = encode(synthetic(spec.rate, seconds=1.0), spec)
    assert _code_of(decoder, data[:keep]) == "invalid_audio"


def test_corrupt_everywhere_is_invalid(decoder: PyAVDecoder) -> None:
    """A FLAC header followed by nothing but noise has nothing decodable."""
    data = encode(synthetic(16_000, seconds=2.0), Spec("flac", "flac", "s16", 16_000))
    noisy = data[:42] + np.random.default_rng(3).bytes(len(data) - 42)
    with pytest.raises(InvalidAudio) as err:
        decoder.decode(io.BytesIO(noisy))
    assert err.value.code in {"invalid_audio", "empty_audio"}
