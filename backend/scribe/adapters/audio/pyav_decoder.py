"""Decode any common audio or video upload to 16 kHz mono float32 in process with PyAV.

PyAV ships FFmpeg inside its wheel, so MP3, WAV, FLAC, M4A/AAC, OGG/Opus, OGG/Vorbis, WebM and
the audio track of MP4 video all decode from a Python file object: no temporary files and no
``ffmpeg`` subprocess.
"""

from __future__ import annotations

import io
import logging
import math
from typing import Any, BinaryIO

import av
import av.error
import numpy as np
import numpy.typing as npt

from scribe.domain.audio import SAMPLE_RATE, Audio
from scribe.domain.errors import InvalidAudio

logger = logging.getLogger(__name__)

_FORMATS = "MP3, WAV, FLAC, M4A/AAC, OGG Opus or Vorbis, WebM, MP4"
_MAX_RESERVED_SAMPLES = 4 * 3600 * SAMPLE_RATE  # trust a stated length up to 4 h; grow beyond
_CLEAN_BLOCK = 1 << 20  # samples sanitised at a time (about a minute)
_UPLOAD_HINT = f"Upload an audio or video file in a common format ({_FORMATS})."

# Exceptions that bad input can make PyAV (or the file object under it) raise. FFmpegError covers
# every av.error class; the builtins cover metadata decoding (UnicodeDecodeError is a ValueError),
# odd stream tables and readers that give up part way.
_INPUT_ERRORS: tuple[type[BaseException], ...] = (
    av.error.FFmpegError,
    OSError,
    EOFError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    RuntimeError,
    ArithmeticError,
)


class PyAVDecoder:
    """``AudioDecoder`` that turns an upload into 16 kHz mono float32 samples in [-1, 1].

    The first audio stream is decoded (video and other streams are ignored); the samples are
    converted by FFmpeg's resampler. Several channels are mixed down with FFmpeg's downmix
    matrix normalised so no gain is added (stereo becomes the mean of both channels, 5.1 keeps
    the centre channel strongest). Packets that fail to decode are skipped, so a file that is
    corrupt part way still gives what can be decoded.

    Args:
        max_duration_s: reject audio longer than this many seconds (``InvalidAudio`` with code
            ``audio_too_long``). Measured while decoding, so a huge file stops early. ``None``
            means no limit.
    """

    def __init__(self, max_duration_s: float | None = None) -> None:
        if max_duration_s is not None and not max_duration_s > 0:
            raise ValueError(f"max_duration_s must be positive or None, got {max_duration_s!r}")
        self.max_duration_s = max_duration_s

    def decode(self, source: BinaryIO) -> Audio:
        """Decode a whole file object (read from its start) to 16 kHz mono float32.

        Raises ``InvalidAudio`` with code ``empty_file``, ``invalid_audio``,
        ``no_audio_stream``, ``empty_audio`` or ``audio_too_long``.
        """
        try:
            readable = _rewound(source)
            container = av.open(readable, mode="r", metadata_errors="ignore")
        except InvalidAudio:
            raise
        except MemoryError:
            raise
        except _INPUT_ERRORS as exc:
            raise InvalidAudio(
                "The uploaded file could not be read as audio or video: it is corrupt, "
                f"truncated or not a media file ({_describe(exc)}). {_UPLOAD_HINT}",
                code="invalid_audio",
            ) from exc
        try:
            with container:
                samples = self._decode_container(container)
        except (InvalidAudio, MemoryError):
            raise
        except _INPUT_ERRORS as exc:
            raise InvalidAudio(
                "The uploaded file could not be decoded as audio: it is corrupt or in an "
                f"unsupported encoding ({_describe(exc)}). {_UPLOAD_HINT}",
                code="invalid_audio",
            ) from exc
        return Audio(samples, SAMPLE_RATE)

    def _decode_container(self, container: Any) -> npt.NDArray[np.float32]:
        """Decode the first audio stream of an open input container."""
        audio_streams = list(container.streams.audio)
        if not audio_streams:
            kinds = sorted({str(s.type) for s in container.streams})
            found = f"only {' and '.join(kinds)} streams" if kinds else "no media streams"
            raise InvalidAudio(
                f"The uploaded file ({_format_name(container)}) has no audio track: it contains "
                f"{found}. Upload a recording or a video with sound.",
                code="no_audio_stream",
            )
        stream = audio_streams[0]
        if stream.codec_context is None:
            raise InvalidAudio(
                "The audio track of the uploaded file uses a codec this server cannot decode "
                f"({_codec_name(stream)}). Convert it to a common format ({_FORMATS}) and "
                "upload it again.",
                code="invalid_audio",
            )

        limit = (
            None
            if self.max_duration_s is None
            else math.floor(self.max_duration_s * SAMPLE_RATE) + 1
        )
        buffer = _SampleBuffer(_expected_samples(container, stream, limit))
        bad_packets = 0
        last_error: BaseException | None = None
        resampler: Any = None
        signature: tuple[str, str, int, int] | None = None

        def emit(frames: list[Any]) -> None:
            for out in frames:
                if out.samples:
                    # 'flt' is packed, so mono is one plane of shape (1, n).
                    buffer.append(out.to_ndarray().reshape(-1))
            if limit is not None and buffer.size > limit:
                raise InvalidAudio(
                    f"The audio is longer than this server accepts "
                    f"({_clock(self.max_duration_s or 0.0)}). Split it into shorter parts "
                    "and upload them one by one.",
                    code="audio_too_long",
                )

        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except (InvalidAudio, MemoryError):
                raise
            except _INPUT_ERRORS as exc:
                # The container itself is broken from here on: keep what was decoded so far.
                bad_packets += 1
                last_error = exc
                break
            try:
                frames = packet.decode()
            except (InvalidAudio, MemoryError):
                raise
            except _INPUT_ERRORS as exc:
                bad_packets += 1
                last_error = exc
                continue
            for frame in frames:
                if not frame.samples:
                    continue
                sig = (
                    frame.format.name,
                    frame.layout.name,
                    frame.layout.nb_channels,
                    int(frame.sample_rate),
                )
                if sig != signature:
                    # The stream changed its rate or layout mid-way (chained MP3/OGG): finish
                    # the old resampler and start a new one for the new input.
                    if resampler is not None:
                        emit(resampler.resample(None))
                    resampler = _new_resampler()
                    signature = sig
                frame.pts = None  # timestamps are irrelevant here; gaps must not confuse it
                emit(resampler.resample(frame))
        if resampler is not None:
            emit(resampler.resample(None))

        if bad_packets:
            logger.warning(
                "skipped %d undecodable packet(s) of the upload (%s); last error: %s",
                bad_packets,
                _format_name(container),
                _describe(last_error),
            )
        if buffer.size == 0:
            if last_error is not None:
                raise InvalidAudio(
                    "The audio track of the uploaded file could not be decoded: it is corrupt "
                    f"or truncated ({_describe(last_error)}). {_UPLOAD_HINT}",
                    code="invalid_audio",
                )
            raise InvalidAudio(
                "The uploaded file has an audio track with no sound in it (zero seconds of "
                "audio). Upload a recording that contains sound.",
                code="empty_audio",
            )

        samples = buffer.samples()
        # Float sources (WAV float, some decoders) can overshoot or hold NaN/inf. In blocks: the
        # masks nan_to_num makes would otherwise add most of the samples' size again.
        for start in range(0, len(samples), _CLEAN_BLOCK):
            block = samples[start : start + _CLEAN_BLOCK]
            np.nan_to_num(block, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
            np.clip(block, -1.0, 1.0, out=block)
        return samples


class _SampleBuffer:
    """Decoded samples gathered in one growing array instead of a list joined at the end.

    Joining a list of chunks holds every sample twice at the peak (2 hours of audio: 1.5 GB
    measured); writing into one buffer sized from the container's stated duration holds them
    once. ``np.empty`` only reserves address space, so a duration that overstates the audio
    (a WAV header claiming hours) costs no memory until samples are written.
    """

    def __init__(self, expected: int) -> None:
        self._data = np.empty(max(expected, SAMPLE_RATE), dtype=np.float32)
        self.size = 0

    def append(self, chunk: npt.NDArray[np.float32]) -> None:
        end = self.size + len(chunk)
        if end > len(self._data):
            grown = np.empty(max(end, 2 * len(self._data)), dtype=np.float32)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : end] = chunk
        self.size = end

    def samples(self) -> npt.NDArray[np.float32]:
        """The samples written so far: a view, or a copy when most of the buffer went unused
        (so a header that overstated the length does not keep its reservation alive)."""
        written = self._data[: self.size]
        return written.copy() if self.size < len(self._data) // 2 else written


def _expected_samples(container: Any, stream: Any, limit: int | None) -> int:
    """The number of 16 kHz samples the container says it holds (a guess; 0 if unknown)."""
    seconds = 0.0
    try:
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / av.time_base
    except _INPUT_ERRORS:
        seconds = 0.0
    if not math.isfinite(seconds) or seconds <= 0:
        return 0
    # A little over the stated length, so a resampler's tail does not force a copy.
    expected = int(seconds * SAMPLE_RATE * 1.01) + SAMPLE_RATE
    # Never reserve beyond what the duration limit allows, nor absurd sizes (a lying header).
    cap = limit + SAMPLE_RATE if limit is not None else _MAX_RESERVED_SAMPLES
    return min(expected, cap)


def _new_resampler() -> Any:
    """A converter to 16 kHz mono float32; ``rematrix_maxval=1`` keeps downmix gain at most 1."""
    return av.AudioResampler(
        format="flt",
        layout="mono",
        rate=SAMPLE_RATE,
        options={"rematrix_maxval": "1.0"},
    )


def _rewound(source: BinaryIO) -> BinaryIO:
    """The source positioned at its start, checked to be non-empty.

    A seekable file is rewound and used as it is; a non-seekable stream is read into memory,
    since several containers (MP4 with its index at the end, for one) need to seek.
    """
    seekable = False
    try:
        seekable = bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        seekable = False
    if seekable:
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
        if not size:
            raise _empty_file()
        return source
    data = source.read()
    if not data:
        raise _empty_file()
    return io.BytesIO(data)


def _empty_file() -> InvalidAudio:
    return InvalidAudio(
        "The uploaded file is empty (0 bytes). Upload an audio or video file that contains sound.",
        code="empty_file",
    )


def _describe(exc: BaseException | None) -> str:
    """A short, user-readable reason from a library exception."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, av.error.FFmpegError):
        reason = exc.strerror or str(exc)
    else:
        reason = str(exc) or type(exc).__name__
    reason = reason.strip().rstrip(".")
    return reason[:200] if reason else type(exc).__name__


def _format_name(container: Any) -> str:
    try:
        return f"format: {container.format.name}"
    except Exception:  # pragma: no cover - defensive, only used in messages
        return "format: unknown"


def _codec_name(stream: Any) -> str:
    try:
        return str(stream.codec.name)
    except Exception:
        return "unknown codec"


def _clock(seconds: float) -> str:
    """Seconds as a readable limit, e.g. '2 h 30 min' or '45 s'."""
    if seconds >= 3600:
        h, rem = divmod(round(seconds), 3600)
        return f"{h} h {rem // 60} min" if rem >= 60 else f"{h} h"
    if seconds >= 60:
        m, s = divmod(round(seconds), 60)
        return f"{m} min {s} s" if s else f"{m} min"
    return f"{seconds:g} s"
