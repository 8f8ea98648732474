"""The `scribe` command: serve the API, transcribe a file, evaluate on a manifest."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from scribe import __version__
from scribe.domain.errors import ScribeError
from scribe.domain.options import Task
from scribe.domain.response_format import ResponseFormat
from scribe.domain.transcript import Segment

EPILOG = """\
examples:
  scribe serve                                  # API on http://127.0.0.1:20301 (docs at /docs)
  scribe transcribe talk.mp3 --format srt -o talk.srt
  scribe transcribe interview_fr.m4a --task translate   # English text from any language
  scribe transcribe call.wav --format verbose_json --num-speakers 2 --paragraphs
  scribe eval ../shared/eval/manifest.json      # WER, DER and speaker accuracy per clip

Every setting is an environment variable SCRIBE_<NAME> (see README.md), e.g.
  SCRIBE_WHISPER_MODEL=base SCRIBE_DIARIZER=embedded scribe serve
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scribe",
        description="Scribe: self-hosted, OpenAI-compatible speech-to-text with speaker "
        "diarization. Runs offline on a CPU with bundled models, or on an NVIDIA GPU.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"scribe {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the HTTP API (OpenAI-compatible) and the web page",
        description="Run the HTTP API. Models load in the background; GET /health/ready turns "
        "200 when they are loaded. Exits with status 2 if a model cannot be loaded.",
    )
    serve.add_argument("--host", help="address to listen on (default: SCRIBE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: SCRIBE_PORT or 20301)")

    tr = commands.add_parser(
        "transcribe",
        help="transcribe a file without a server",
        description="Transcribe one audio or video file and print the result (or write it with "
        "-o). A progress bar shows on the terminal for long files.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    tr.add_argument(
        "file", type=Path, help="audio or video file (wav, mp3, flac, m4a, ogg, webm, mp4...)"
    )
    tr.add_argument(
        "-f",
        "--format",
        default=ResponseFormat.TEXT.value,
        choices=[f.value for f in ResponseFormat],
        help="output format",
    )
    tr.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    tr.add_argument("--model", help="engine id (see `GET /v1/models`); default: the first engine")
    tr.add_argument(
        "--task",
        default=Task.TRANSCRIBE.value,
        choices=[t.value for t in Task],
        help="`translate`: English text from speech in any language (Whisper engines)",
    )
    tr.add_argument("--language", help="ISO-639-1 code such as `en` (or `en-US`); default: detect")
    tr.add_argument("--prompt", help="text to guide spelling and style")
    tr.add_argument(
        "--keyword",
        action="append",
        default=[],
        dest="keywords",
        metavar="WORD",
        help="a word or phrase to favour (repeatable; Whisper engines)",
    )
    tr.add_argument("--words", action="store_true", help="include words in verbose_json")
    diarize = tr.add_mutually_exclusive_group()
    diarize.add_argument(
        "--diarize",
        action="store_true",
        default=None,
        help="attribute speakers (default: SCRIBE_DIARIZE_BY_DEFAULT)",
    )
    diarize.add_argument(
        "--no-diarize", dest="diarize", action="store_false", help="skip speaker diarization"
    )
    tr.add_argument("--num-speakers", type=int, help="exact number of speakers")
    tr.add_argument("--min-speakers", type=int, help="at least this many speakers")
    tr.add_argument("--max-speakers", type=int, help="at most this many speakers")
    tr.add_argument("--paragraphs", action="store_true", help="group sentences into paragraphs")
    tr.add_argument("--entities", action="store_true", help="find people, places, organisations")
    tr.add_argument("--sentiment", action="store_true", help="sentiment per paragraph/segment")
    tr.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="NAME",
        help="apply a text rule set (repeatable)",
    )
    tr.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    ev = commands.add_parser(
        "eval",
        help="score WER, DER and speaker attribution on a manifest of reference clips",
        description="Transcribe every clip of a manifest (shaped like ../shared/eval/manifest.json) "
        "and print WER, DER (0.25 s collar and none) and the share of words given the right "
        "speaker, per clip and overall.",
    )
    ev.add_argument("manifest", type=Path, help="manifest.json listing clips and references")
    ev.add_argument("--only", action="append", default=[], metavar="ID", help="only these clip ids")
    ev.add_argument("--diarization-only", action="store_true", help="skip ASR: DER only")
    ev.add_argument("-o", "--output", type=Path, help="also write the table here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # `transcribe` prints its result on stdout: keep the log to warnings unless asked.
    default_level = "warning" if args.command == "transcribe" else "info"
    level = os.environ.get("SCRIBE_LOG_LEVEL", default_level).upper()
    if args.command == "serve":
        from logging.config import dictConfig

        from scribe.api.request_context import logging_config

        dictConfig(logging_config(level))  # request ids on every line
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "transcribe":
            return _transcribe(args)
        if args.command == "eval":
            return _eval(args)
    except ScribeError as exc:
        print(f"scribe: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from scribe.api.app import create_app
    from scribe.bootstrap import build_services
    from scribe.config import Settings
    from scribe.use_cases.warm_up import WarmUp

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides)
    services = build_services(settings)
    server: uvicorn.Server | None = None

    def on_loaded(warm_up: WarmUp) -> None:
        if warm_up.error is not None:
            print(f"scribe: cannot start: {warm_up.error.message}", file=sys.stderr)
            if server is not None:
                server.should_exit = True
        else:
            logging.getLogger("scribe").info(
                "ready in %.1f s: http://%s:%d (docs at /docs)",
                warm_up.seconds or 0.0,
                settings.host,
                settings.port,
            )

    app = create_app(services, on_loaded=on_loaded)
    from scribe.api.request_context import logging_config

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=logging_config(settings.log_level),
    )
    server = uvicorn.Server(config)
    server.run()
    return 2 if services.warm_up.error is not None else 0


class _ProgressBar:
    """A tqdm bar over the recording's duration, fed by the use case."""

    def __init__(self, enabled: bool) -> None:
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=100, unit="%", desc="transcribing", file=sys.stderr, leave=False)

    def on_segment(self, segment: Segment) -> None:
        pass

    def on_attributed(self, segment: Segment) -> None:
        pass

    def on_progress(self, fraction: float, stage: str) -> None:
        if self._bar is not None:
            self._bar.set_description(stage)
            self._bar.update(round(fraction * 100) - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _transcribe(args: argparse.Namespace) -> int:
    from scribe.api import formats
    from scribe.bootstrap import build_services
    from scribe.use_cases.options import TranscriptionRequest

    if not args.file.is_file():
        print(f"scribe: no such file: {args.file}", file=sys.stderr)
        return 2
    services = build_services()
    response_format = ResponseFormat(args.format)
    words = args.words and response_format is ResponseFormat.VERBOSE_JSON
    options = services.options.build(
        TranscriptionRequest(
            model=args.model,
            task=Task(args.task),
            language=args.language,
            prompt=args.prompt,
            keywords=tuple(args.keywords),
            response_format=response_format,
            timestamp_granularities=("word", "segment") if words else (),
            diarize=args.diarize,
            num_speakers=args.num_speakers,
            min_speakers=args.min_speakers,
            max_speakers=args.max_speakers,
            detect_paragraphs=args.paragraphs,
            detect_entities=args.entities,
            detect_sentiment=args.sentiment,
            text_rules=tuple(args.rules),
        )
    )
    # Load only what this file needs: the engine it names, and the diarizer if it is used.
    services.engines.select(options.model).load()
    if options.diarize and services.diarizer is not None:
        services.diarizer.load()
    with args.file.open("rb") as source:
        audio = services.transcribe.decode(source)
    # A bar only where someone watches, and only when the wait is long enough to matter.
    bar = _ProgressBar(sys.stderr.isatty() and not args.no_progress and audio.duration > 30)
    try:
        transcript = services.transcribe.transcribe(audio, options, bar)
    finally:
        bar.close()
    body = formats.render(transcript, response_format, options)
    _write(body, args.output)
    return 0


def _write(body: str, output: Path | None) -> None:
    if output is None:
        out: TextIO = sys.stdout
        out.write(body if body.endswith("\n") else body + "\n")
    else:
        output.write_text(body, encoding="utf-8")


def _eval(args: argparse.Namespace) -> int:
    from scribe.bootstrap import build_services
    from scribe.domain.audio import Audio
    from scribe.domain.options import SpeakerHints
    from scribe.domain.transcript import SpeakerTurn, Transcript
    from scribe.evaluation import ClipResult, evaluate, format_report
    from scribe.use_cases.options import TranscriptionRequest

    services = build_services()
    diarizer = services.diarizer
    services.warm_up.run()
    services.warm_up.require_ready()

    def decode(path: Path) -> Audio:
        with path.open("rb") as source:
            return services.transcribe.decode(source)

    # With ASR, each clip runs through the whole pipeline once, as the API runs it (ASR and
    # diarization in parallel); DER is scored on the turns that pipeline used, word-speaker
    # accuracy on its words. The report then books all the time as diarization.
    finished: dict[Path, Transcript] = {}

    def pipeline(path: Path) -> list[SpeakerTurn]:
        options = services.options.build(TranscriptionRequest(diarize=True))
        finished[path] = services.transcribe.transcribe(decode(path), options)
        return list(finished[path].turns)

    def diarize_only(path: Path) -> list[SpeakerTurn]:
        assert diarizer is not None
        return diarizer.diarize(decode(path), SpeakerHints())

    def transcribe(path: Path) -> Transcript:
        if path in finished:
            return finished.pop(path)
        options = services.options.build(TranscriptionRequest(diarize=False))
        return services.transcribe.transcribe(decode(path), options)

    def progress(result: ClipResult) -> None:
        print(f"  {result.id}: done", file=sys.stderr)

    report = evaluate(
        args.manifest,
        transcribe=None if args.diarization_only else transcribe,
        diarize=None if diarizer is None else (diarize_only if args.diarization_only else pipeline),
        clip_ids=args.only or None,
        on_clip=progress,
    )
    table = format_report(report)
    print(table)
    if args.output:
        args.output.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
