"""The bad-input corpus: each input is made at run time (small, nothing committed), sent through
the real app with the real PyAV decoder and fake engines, and must get a clear answer in OpenAI's
shape, never a 5xx, with the service healthy afterwards.

`python scripts/bad_input_table.py` prints the table in research/bad-input.md from this corpus;
`tests/api/test_bad_input.py` checks every row.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from fastapi.testclient import TestClient

from scribe.api.app import create_app
from scribe.bootstrap import Overrides, Services, build_services
from scribe.config import Settings
from scribe.domain.audio import Audio
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import AsrResult
from scribe.ports.asr_engine import SegmentCallback
from tests.fakes import FakeAsr, FakeDiarizer, FakeKeyStore, FakeUsageMeter, wav_bytes

URL = "/v1/audio/transcriptions"
MAX_UPLOAD_MB = 8
MAX_AUDIO_MINUTES = 150  # 2.5 h: the 2-hour file is within it


class SilenceAwareAsr(FakeAsr):
    """The fake engine, but digital silence gives no text (as the Whisper adapter does)."""

    def transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        on_segment: SegmentCallback | None = None,
    ) -> AsrResult:
        if not np.any(audio.samples):
            return AsrResult("en", audio.duration, ())
        return super().transcribe(audio, options, on_segment)


def corpus_services() -> Services:
    """The composition root with the real decoder, fake engines and in-memory stores."""
    services = build_services(
        Settings(
            max_upload_mb=MAX_UPLOAD_MB,
            max_audio_minutes=MAX_AUDIO_MINUTES,
            rate_limit_requests_per_minute=0,
            rate_limit_audio_minutes_per_hour=0,
            diarizer="none",
            device="cpu",
        ),
        Overrides(
            asr_engines=[SilenceAwareAsr()],
            diarizer=FakeDiarizer(),
            post_processors=[],
            key_store=FakeKeyStore(),
            usage_meter=FakeUsageMeter(),
        ),
    )
    services.warm_up.run()
    return services


# --- inputs ---------------------------------------------------------------------------------


def encode(
    container: str,
    codec: str | None,
    seconds: float,
    rate: int = 16000,
    channels: int = 1,
    video: bool = False,
    tone: bool = True,
) -> bytes:
    """A small file written by PyAV: an audio track (``codec``) and/or a video track."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        vstream = None
        if video:
            vstream = out.add_stream("mpeg4", rate=10)
            vstream.width, vstream.height, vstream.pix_fmt = 64, 48, "yuv420p"
        astream = None
        if codec is not None:
            layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
            astream = out.add_stream(codec, rate=rate, layout=layout)
        if astream is not None:
            fmt = astream.codec_context.codec.audio_formats[0].name
            frame_size = astream.codec_context.frame_size or 1024
            total, done = int(seconds * rate), 0
            while done < total:
                n = min(frame_size, total - done)
                t = (done + np.arange(n)) / rate
                wave = 0.2 * np.sin(2 * np.pi * 220 * t) if tone else np.zeros(n)
                frame = _frame(wave, fmt, channels)
                frame.sample_rate, frame.pts = rate, done
                for packet in astream.encode(frame):
                    out.mux(packet)
                done += n
            for packet in astream.encode(None):
                out.mux(packet)
        if vstream is not None:
            for i in range(int(seconds * 10)):
                image = np.full((48, 64, 3), i % 255, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = i
                for packet in vstream.encode(frame):
                    out.mux(packet)
            for packet in vstream.encode(None):
                out.mux(packet)
    return buffer.getvalue()


def _frame(wave: np.ndarray, fmt: str, channels: int) -> av.AudioFrame:
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
    planar = fmt.endswith("p")
    base = fmt.rstrip("p")
    if base == "s16":
        data = (wave * 32767).astype(np.int16)
    elif base == "s32":
        data = (wave * 2**31 * 0.99).astype(np.int32)
    else:
        data = wave.astype(np.float32)
    rows = (
        np.tile(data, (channels, 1))
        if planar
        else np.tile(data[:, None], (1, channels)).reshape(1, -1)
    )
    return av.AudioFrame.from_ndarray(np.ascontiguousarray(rows), format=fmt, layout=layout)


def silent_flac(seconds: float) -> bytes:
    """Digital silence as FLAC: 2 hours take about 1.3 MB."""
    return encode("flac", "flac", seconds, tone=False)


def wav_multichannel(seconds: float, rate: int, channels: int) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.2 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    frames = np.repeat(wave[:, None], channels, axis=1).tobytes()
    header = _wav_header(rate, channels, len(frames))
    return header + frames


def _wav_header(rate: int, channels: int, data_bytes: int) -> bytes:
    block = channels * 2
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, 16)
    riff_size = min(0xFFFFFFFF, 4 + 8 + len(fmt) + 8 + data_bytes)
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", min(0xFFFFFFFF, data_bytes))
    )


def wav_claiming_hours() -> bytes:
    """A WAV header that says 6 hours of 48 kHz stereo follow; 1 s does."""
    real = wav_bytes(1)[44:]
    return _wav_header(48000, 2, 6 * 3600 * 48000 * 4) + real


def multipart(
    fields: list[tuple[bytes, bytes]], file: tuple[bytes, bytes, bytes] | None
) -> tuple[bytes, str]:
    """A multipart body by hand (for names no client library would send)."""
    boundary = "scribe-test-boundary"
    parts = []
    for name, value in fields:
        parts.append(b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value)
    if file is not None:
        filename, content_type, data = file
        parts.append(
            b'Content-Disposition: form-data; name="file"; filename="'
            + filename
            + b'"\r\n'
            + b"Content-Type: "
            + content_type
            + b"\r\n\r\n"
            + data
        )
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    body += b"--" + boundary.encode() + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary}"


# --- the corpus -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    status: int  # what the service must answer
    code: str | None  # the error code it must give (None for a success)
    send: Callable[[TestClient], Any]
    text: str | None = None  # for a success: the transcript text it must give, if checked
    slow: bool = False
    # Checked by its own test with the real engine (tests/api/test_bad_input.py), table only here.
    own_test: bool = False


Data = bytes | Callable[[], bytes]


def _bytes(data: Data) -> bytes:
    return data if isinstance(data, bytes) else data()


def _upload(
    data: Data, name: str = "clip.wav", ctype: str = "audio/wav", **form: Any
) -> Callable[[TestClient], Any]:
    """A normal upload; the file is made when the case runs (some take seconds)."""
    return lambda c: c.post(URL, files={"file": (name, _bytes(data), ctype)}, data=form)


def _raw(body_and_type: tuple[bytes, str]) -> Callable[[TestClient], Any]:
    body, ctype = body_and_type
    return lambda c: c.post(URL, content=body, headers={"Content-Type": ctype})


def cases() -> list[Case]:
    mp3 = encode("mp3", "mp3", 4, rate=16000)  # small: made at once
    tone = wav_bytes(4)
    return [
        Case("0 bytes", 400, "empty_file", _upload(b"")),
        Case(
            "MP3 cut to its first 200 bytes",
            400,
            "invalid_audio",
            _upload(mp3[:200], "a.mp3", "audio/mpeg"),
        ),
        Case(
            "MP3 cut in half (what is there is transcribed)",
            200,
            None,
            _upload(mp3[: len(mp3) // 2], "a.mp3", "audio/mpeg"),
        ),
        Case(
            "random bytes named .wav",
            400,
            "invalid_audio",
            _upload(np.random.default_rng(0).bytes(50_000)),
        ),
        Case(
            "a text file",
            400,
            "invalid_audio",
            _upload(b"Dear diary,\n" * 500, "notes.txt", "text/plain"),
        ),
        Case("WAV header claiming 6 h, holding 1 s", 200, None, _upload(wav_claiming_hours())),
        Case(
            "MP4 with no audio track",
            400,
            "no_audio_stream",
            _upload(lambda: encode("mp4", None, 2, video=True), "v.mp4", "video/mp4"),
        ),
        Case(
            "MP4 with a video and an AAC track",
            200,
            None,
            _upload(lambda: encode("mp4", "aac", 3, video=True), "v.mp4", "video/mp4"),
        ),
        Case(
            "8-channel 192 kHz WAV (1 s)",
            200,
            None,
            _upload(lambda: wav_multichannel(1, 192_000, 8)),
        ),
        Case(
            "2-hour silent FLAC",
            200,
            None,
            _upload(lambda: silent_flac(7200), "quiet.flac", "audio/flac"),
            text="",
            slow=True,
            own_test=True,
        ),
        Case(
            "audio longer than the limit (151 min of silence)",
            400,
            "audio_too_long",
            _upload(lambda: silent_flac(151 * 60), "long.flac", "audio/flac"),
            slow=True,
        ),
        Case(
            "upload over the size limit",
            413,
            "file_too_large",
            _upload(b"\0" * (MAX_UPLOAD_MB + 1) * 1024 * 1024),
        ),
        Case(
            "non-UTF-8 file name",
            200,
            None,
            _raw(multipart([], (b"\xff\xfe\x81clip.wav", b"audio/wav", tone))),
        ),
        Case(
            "file name with a path (../../etc/passwd)", 200, None, _upload(tone, "../../etc/passwd")
        ),
        Case("WAV sent as text/plain", 200, None, _upload(tone, "clip.txt", "text/plain")),
        Case(
            "JSON body instead of multipart",
            400,
            "missing_file",
            lambda c: c.post(URL, json={"file": "clip.wav"}),
        ),
        Case(
            "multipart without a boundary",
            400,
            None,
            lambda c: c.post(
                URL, content=b"--x\r\n", headers={"Content-Type": "multipart/form-data"}
            ),
        ),
        Case(
            "missing file", 400, "missing_file", lambda c: c.post(URL, data={"model": "whisper-1"})
        ),
        Case(
            "a file field that is text, not a file",
            400,
            "invalid_value",
            lambda c: c.post(URL, data={"file": "clip.wav"}),
        ),
        Case("unknown parameter", 400, "unknown_parameter", _upload(tone, colour="blue")),
        Case(
            "repeated parameter (model twice)",
            400,
            "repeated_parameter",
            _raw(
                multipart(
                    [(b"model", b"whisper-1"), (b"model", b"whisper-1")],
                    (b"a.wav", b"audio/wav", tone),
                )
            ),
        ),
        Case(
            "two files",
            400,
            "repeated_parameter",
            _two_files(tone),
        ),
        Case("temperature=5", 400, None, _upload(tone, temperature="5")),
        Case("temperature=NaN", 400, None, _upload(tone, temperature="nan")),
        Case("num_speakers=0", 400, None, _upload(tone, num_speakers="0")),
        Case("num_speakers=10^30", 400, None, _upload(tone, num_speakers="1" + "0" * 30)),
        Case("response_format=pdf", 400, "invalid_value", _upload(tone, response_format="pdf")),
        Case(
            "timestamp_granularities[]=char",
            400,
            "invalid_value",
            _upload(
                tone, **{"timestamp_granularities[]": "char", "response_format": "verbose_json"}
            ),
        ),
        Case("prompt of 100 KB", 400, None, _upload(tone, prompt="word " * 20_000)),
        Case("form field of 2 MB", 400, None, _upload(tone, prompt="x" * 2_000_000)),
        Case(
            "header of 1 MB",
            431,
            "headers_too_large",
            lambda c: c.post(
                URL, files={"file": ("a.wav", tone)}, headers={"X-Filler": "x" * 1_000_000}
            ),
        ),
        Case(
            "Authorization header of 1 MB (auth off)",
            431,
            "headers_too_large",
            lambda c: c.post(
                URL,
                files={"file": ("a.wav", tone)},
                headers={"Authorization": "Bearer " + "x" * 1_000_000},
            ),
        ),
        Case(
            "known_speaker_references[] that is not a data URL",
            400,
            None,
            _upload(
                tone,
                **{
                    "known_speaker_names[]": "Ann",
                    "known_speaker_references[]": "http://example.com/a.wav",
                },
            ),
        ),
    ]


def _two_files(tone: bytes) -> Callable[[TestClient], Any]:
    return lambda c: c.post(
        URL, files=[("file", ("a.wav", tone, "audio/wav")), ("file", ("b.wav", tone, "audio/wav"))]
    )


def run_case(client: TestClient, case: Case) -> tuple[int, str | None, Any]:
    response = case.send(client)
    code = None
    if response.status_code >= 400:
        code = response.json()["error"]["code"]
    return response.status_code, code, response


def client_for(services: Services | None = None) -> TestClient:
    return TestClient(create_app(services or corpus_services()))
