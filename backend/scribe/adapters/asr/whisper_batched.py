"""Batched Whisper decoding of voice-activity windows, on a loaded faster-whisper ``WhisperModel``.

The long-audio path of ``FasterWhisperEngine``. Like faster-whisper's ``BatchedInferencePipeline``
(whose batch step it reuses) it cuts the recording at the pauses the Silero VAD finds, packs the
speech into windows of up to 30 s and decodes ``batch_size`` windows at once, each on its own:
no window is conditioned on the text of the one before, so one bad window cannot start a
repetition loop that runs to the end of the recording. It differs from that pipeline where the
pipeline loses words or memory:

- A window whose text stops before its end (Whisper tends to stop early in a window that packs
  speech from different places) is decoded again from where the text stopped, as faster-whisper's
  sequential path does; the pipeline drops the rest of the window (research/long-audio.md: it
  deleted 86 of 735 reference words on a 5-minute file, this path 24, the sequential path 45).
- Timestamps are on, so segments are sentence-sized (the pipeline's default gives one segment
  per 30 s window, too long for subtitles).
- Features are computed per batch, not for the whole recording up front, and segments are
  yielded as each batch finishes, in time order.

Every window is decoded by beam search, at temperature 0 (the engine sends requests that ask
for sampling to its sequential path), with no temperature fallback: the same audio gives the
same text every time.

faster-whisper is imported inside the functions; this module loads with the adapter's others.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scribe.domain.audio import SAMPLE_RATE

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

WINDOW_S = 30.0
# A window re-decoded from where its text stopped needs at least this much audio left...
_MIN_REMAINDER_S = 1.0
# ...and is re-decoded at most this many times (each pass moves forward, like the sequential path).
_MAX_PASSES = 4
# faster-whisper's batched default: cut at pauses of 160 ms (its sequential default is 2 s).
_MIN_SILENCE_MS = 160
# Whisper's own tests of a failed window: text this repetitive (gzip ratio) is a loop...
_MAX_COMPRESSION_RATIO = 2.4
# ...and a window this sure there is no speech, decoded this unsurely, is silence.
_NO_SPEECH_PROB = 0.6
_LOW_LOGPROB = -1.0
# A looping window is decoded once more with this penalty on repeated tokens (deterministic,
# unlike a temperature fallback); whichever pass is less repetitive is kept.
_RETRY_REPETITION_PENALTY = 1.1


@dataclass(frozen=True)
class BatchedRequest:
    """What one batched transcription decodes with (faster-whisper's argument names)."""

    language: str | None
    task: str = "transcribe"
    beam_size: int = 5
    temperature: float = 0.0
    initial_prompt: str | None = None
    hotwords: str | None = None
    word_timestamps: bool = False
    vad_parameters: dict[str, float] = field(default_factory=dict)
    batch_size: int = 8


@dataclass(frozen=True)
class _Decoded:
    """One window's decode: its segments (dicts, joined-speech timeline) and how many seconds of
    its samples they account for."""

    parts: list[dict[str, Any]]
    consumed: float
    compression_ratio: float
    no_speech_prob: float
    avg_logprob: float

    @property
    def looped(self) -> bool:
        return self.compression_ratio > _MAX_COMPRESSION_RATIO

    @property
    def silent(self) -> bool:
        return self.no_speech_prob > _NO_SPEECH_PROB and self.avg_logprob < _LOW_LOGPROB


@dataclass
class _Job:
    """What is left to decode of one window: its samples and where they start."""

    window: int
    samples: npt.NDArray[np.float32]
    offset: float  # seconds, on the timeline of the joined speech
    passes: int = 0


def speech_windows(
    samples: npt.NDArray[np.float32], vad_parameters: dict[str, float]
) -> tuple[list[dict[str, int]], list[npt.NDArray[np.float32]], list[float]]:
    """The Silero VAD's speech regions, and the speech packed into windows of up to 30 s with
    each window's start on the joined-speech timeline."""
    from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

    options = VadOptions(
        **{"min_silence_duration_ms": _MIN_SILENCE_MS, **vad_parameters},
        max_speech_duration_s=WINDOW_S,
    )
    speech = get_speech_timestamps(samples, options)
    if not speech:
        return [], [], []
    chunks, metadata = collect_chunks(samples, speech, max_duration=WINDOW_S)
    return speech, chunks, [float(m["offset"]) for m in metadata]


def transcribe_batched(
    model: WhisperModel, samples: npt.NDArray[np.float32], request: BatchedRequest
) -> tuple[str, Iterator[Any]]:
    """The language and a generator of faster-whisper ``Segment`` objects on the original
    timeline, in order. Decoding happens as the generator is consumed, one batch at a time."""
    from faster_whisper.tokenizer import Tokenizer

    speech, chunks, offsets = speech_windows(samples, request.vad_parameters)
    language = request.language
    if not chunks:
        return language or "en", iter(())
    if language is None:
        if model.model.is_multilingual:
            language, _, _ = model.detect_language(features=_features(model, chunks[0]))
        else:
            language = "en"
    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task=request.task, language=language
    )
    jobs = [
        _Job(i, chunk, offset)
        for i, (chunk, offset) in enumerate(zip(chunks, offsets, strict=True))
    ]
    return language, _restored(model, tokenizer, jobs, speech, request)


def _restored(
    model: WhisperModel,
    tokenizer: Any,
    jobs: list[_Job],
    speech: list[dict[str, int]],
    request: BatchedRequest,
) -> Iterator[Any]:
    from faster_whisper.transcribe import restore_speech_timestamps

    yield from restore_speech_timestamps(
        _segments(model, tokenizer, jobs, request), speech, SAMPLE_RATE
    )


def _segments(
    model: WhisperModel, tokenizer: Any, jobs: list[_Job], request: BatchedRequest
) -> Iterator[Any]:
    """Decode the windows batch by batch; yield each window's segments once it and every window
    before it are complete (a remainder joins the front of the queue for the next batch)."""
    from faster_whisper import BatchedInferencePipeline
    from faster_whisper.transcribe import Segment, Word

    options = _options(tokenizer, request)
    retry = replace(options, repetition_penalty=_RETRY_REPETITION_PENALTY)
    pipeline = BatchedInferencePipeline(model)  # per call: it keeps per-call state
    queue = deque(jobs)
    pending: dict[int, list[dict[str, Any]]] = {job.window: [] for job in jobs}
    open_windows = {job.window for job in jobs}
    next_window = 0
    number = 0
    last_speech = 0.0
    while queue:
        batch = [queue.popleft() for _ in range(min(request.batch_size, len(queue)))]
        results, last_speech = _decode(model, pipeline, tokenizer, batch, options, last_speech)
        looped = [k for k, result in enumerate(results) if result.looped]
        if looped:
            retried, _ = _decode(
                model, pipeline, tokenizer, [batch[k] for k in looped], retry, last_speech
            )
            for k, result in zip(looped, retried, strict=True):
                if result.compression_ratio < results[k].compression_ratio:
                    results[k] = result
        remainders = []
        for job, result in zip(batch, results, strict=True):
            consumed = result.consumed
            if not result.silent:
                pending[job.window] += result.parts
            left = job.samples.size / SAMPLE_RATE - consumed
            if consumed > 0 and left >= _MIN_REMAINDER_S and job.passes + 1 < _MAX_PASSES:
                start = round(consumed * SAMPLE_RATE)
                remainders.append(
                    _Job(job.window, job.samples[start:], job.offset + consumed, job.passes + 1)
                )
            else:
                open_windows.discard(job.window)
        queue.extendleft(reversed(remainders))
        while next_window in pending and next_window not in open_windows:
            for part in pending.pop(next_window):
                number += 1
                yield Segment(
                    id=number,
                    seek=part["seek"],
                    start=round(part["start"], 3),
                    end=round(part["end"], 3),
                    text=part["text"],
                    tokens=part["tokens"],
                    avg_logprob=part["avg_logprob"],
                    compression_ratio=part["compression_ratio"],
                    no_speech_prob=part["no_speech_prob"],
                    words=[Word(**w) for w in part["words"]] if request.word_timestamps else None,
                    temperature=request.temperature,
                )
            next_window += 1


def _decode(
    model: WhisperModel,
    pipeline: Any,
    tokenizer: Any,
    batch: list[_Job],
    options: Any,
    last_speech: float,
) -> tuple[list[_Decoded], float]:
    """One batched decode of ``batch``; and the end of the last speech, for word timing."""
    from faster_whisper.transcribe import get_compression_ratio, pad_or_trim

    features = np.stack([pad_or_trim(_features(model, job.samples)) for job in batch])
    encoder_output, outputs = pipeline.generate_segment_batched(features, tokenizer, options)
    fps = model.frames_per_second
    segmented: list[list[dict[str, Any]]] = []
    sizes: list[int] = []
    consumed: list[float] = []
    for job, output in zip(batch, outputs, strict=True):
        duration = job.samples.size / SAMPLE_RATE
        size = int(math.ceil(duration) * fps)
        parts, seek, single_ending = model._split_segments_by_timestamps(
            tokenizer=tokenizer,
            tokens=output["tokens"],
            time_offset=job.offset,
            segment_size=size,
            segment_duration=duration,
            seek=0,
        )
        if single_ending and parts and parts[-1]["end"] - job.offset < duration:
            # Whisper says the speech ended here; the VAD heard more: look again from here.
            consumed.append(max(0.0, parts[-1]["end"] - job.offset))
        else:
            consumed.append(min(seek / fps, duration))
        sizes.append(size)
        segmented.append(
            [
                {
                    "text": tokenizer.decode(part["tokens"]),
                    "avg_logprob": output["avg_logprob"],
                    "no_speech_prob": output["no_speech_prob"],
                    "tokens": part["tokens"],
                    "start": part["start"],
                    "end": part["end"],
                    "compression_ratio": get_compression_ratio(tokenizer.decode(part["tokens"])),
                    # add_word_timestamps places words from this (frames on the joined timeline).
                    "seek": int(job.offset * fps),
                    "words": [],
                }
                for part in parts
            ]
        )
    if options.word_timestamps:
        last_speech = (
            model.add_word_timestamps(
                segmented,
                tokenizer,
                encoder_output,
                sizes,
                options.prepend_punctuations,
                options.append_punctuations,
                last_speech,
            )
            or last_speech
        )
    results = [
        _Decoded(
            parts=[part for part in parts if part["text"].strip()],
            consumed=seconds,
            compression_ratio=get_compression_ratio(tokenizer.decode(output["tokens"])),
            no_speech_prob=float(output["no_speech_prob"]),
            avg_logprob=float(output["avg_logprob"]),
        )
        for parts, seconds, output in zip(segmented, consumed, outputs, strict=True)
    ]
    return results, last_speech


def _features(model: WhisperModel, samples: npt.NDArray[np.float32]) -> Any:
    return model.feature_extractor(samples)[..., :-1]


def _options(tokenizer: Any, request: BatchedRequest) -> Any:
    """faster-whisper's ``TranscriptionOptions`` as its batched pipeline builds them, with
    timestamps on."""
    from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

    return TranscriptionOptions(
        beam_size=request.beam_size,
        best_of=5,
        patience=1,
        length_penalty=1,
        repetition_penalty=1,
        no_repeat_ngram_size=0,
        log_prob_threshold=-1.0,
        no_speech_threshold=0.6,
        compression_ratio_threshold=2.4,
        condition_on_previous_text=False,
        prompt_reset_on_temperature=0.5,
        temperatures=[request.temperature],
        initial_prompt=request.initial_prompt,
        prefix=None,
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        without_timestamps=False,
        max_initial_timestamp=0.0,
        word_timestamps=request.word_timestamps,
        prepend_punctuations="\"'“¿([{-",
        append_punctuations="\"'.。,，!！?？:：”)]}、",
        multilingual=False,
        max_new_tokens=None,
        clip_timestamps="0",
        hallucination_silence_threshold=None,
        hotwords=request.hotwords,
    )
