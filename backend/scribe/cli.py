"""The `scribe` command: serve the API, transcribe a file, evaluate on a manifest."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from scribe import __version__
from scribe.domain.errors import ScribeError
from scribe.domain.jobs import Job
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
  scribe keys create --name laptop              # prints a new API key, once
  scribe keys list                              # name, prefix, scope, created, last used
  scribe keys usage --since 7d                  # requests and audio per key and day
  scribe jobs list                              # newest jobs: status, progress, owner
  scribe jobs show job_...                      # one job as GET /v1/audio/jobs/{id} shows it
  scribe jobs cancel job_...                    # a running job stops within seconds
  scribe db upgrade                             # bring the database schema up to date
  scribe webhooks secret                        # the secret that signs job callbacks
  scribe webhooks rotate-secret --overlap 24    # a new one; the old stays valid 24 h

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

    worker = commands.add_parser(
        "worker",
        help="run jobs from the broker (scaled shape: SCRIBE_JOB_QUEUE=celery)",
        description="A Celery worker: loads its engines once, then runs the jobs that API nodes "
        "send to its engines' queues. SIGTERM stops it after its running jobs finish; SIGQUIT "
        "stops it at once (its jobs go to another worker).",
    )
    worker.add_argument(
        "--concurrency", type=_count, help="jobs at once (default: SCRIBE_WORKER_CONCURRENCY or 1)"
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics on this port (default: SCRIBE_METRICS_PORT; 0: none)",
    )
    worker.add_argument(
        "--engines",
        help="engines (queues) to serve, comma-separated: whisper, nemo (default: "
        "SCRIBE_WORKER_ENGINES or SCRIBE_ASR_ENGINE)",
    )
    worker.set_defaults(metrics_port=None)

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
    _add_keys_parser(commands)
    _add_jobs_parser(commands)
    _add_db_parser(commands)
    _add_webhooks_parser(commands)
    return parser


def _add_keys_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser(
        "keys",
        help="create, list and revoke API keys; show usage per key",
        description="API keys for the HTTP API (Authorization: Bearer KEY). Only a hash of each "
        "key is stored, in the database (SCRIBE_DATABASE_URL, or SQLite in SCRIBE_DATA_DIR).",
    )
    actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="make a new key and print it (once: it cannot be shown again)",
        description="Make a new key and print it on standard output. Limits left out take the "
        "server's defaults (SCRIBE_RATE_LIMIT_*); 0 means no limit.",
    )
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument(
        "--scope",
        choices=["transcribe", "admin"],
        default="transcribe",
        help="admin keys may also read every key's usage (default: transcribe)",
    )
    create.add_argument("--rpm", type=_count, metavar="N", help="requests per minute")
    create.add_argument(
        "--audio-minutes-per-hour", type=_amount, metavar="MIN", help="minutes of audio per hour"
    )
    create.add_argument("--concurrency", type=_count, metavar="N", help="requests at once")
    actions.add_parser("list", help="every key: id, name, prefix, scope, created, last used")
    revoke = actions.add_parser("revoke", help="revoke a key (its requests get 401 at once)")
    revoke.add_argument("key", help="the key's id (key_...) or prefix (sk-scribe-XXXXXXXX)")
    usage = actions.add_parser("usage", help="requests, audio and failures per key and day")
    usage.add_argument(
        "--since", type=_since, metavar="DATE", help="first day: YYYY-MM-DD, or 7d for a week"
    )
    usage.add_argument("--key", help="only this key (id or prefix)")


def _add_jobs_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = commands.add_parser(
        "jobs",
        help="list, show and cancel transcription jobs",
        description="Jobs in the database (SCRIBE_DATABASE_URL, or SQLite in SCRIBE_DATA_DIR), "
        "every key's. A cancel reaches a job running in `scribe serve` within seconds.",
    )
    actions = jobs.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the newest jobs: id, status, progress, file, owner")
    listing.add_argument("--limit", type=int, default=20, help="how many (1-100, default 20)")
    listing.add_argument("--after", metavar="JOB_ID", help="the page after this job")
    listing.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="STATUS",
        help="only jobs in this status (queued, in_progress or running, completed, failed, "
        "cancelled); repeat for several",
    )
    show = actions.add_parser("show", help="one job, as JSON")
    show.add_argument("job_id")
    cancel = actions.add_parser("cancel", help="cancel a queued or running job")
    cancel.add_argument("job_id")


def _add_db_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser(
        "db",
        help="the database schema: upgrade it, or show its revision",
        description="`scribe serve` upgrades the schema when it starts; these do it by hand.",
    )
    actions = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("upgrade", help="apply every migration this version has")
    actions.add_parser("current", help="print the database's schema revision and this version's")


# --- webhooks ---------------------------------------------------------------------------------
def _add_webhooks_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from scribe.adapters.webhooks.secret import REFRESH_SECONDS

    webhooks = commands.add_parser(
        "webhooks",
        help="job callbacks: print or rotate the secret that signs them",
        description="Job callbacks (callback_url) are signed as the Standard Webhooks spec says. "
        "Their receivers verify the signature with this secret (SCRIBE_WEBHOOK_SECRET, or one "
        "made once and kept in the service's database, which every API node and worker shares).",
    )
    actions = webhooks.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser(
        "secret",
        help="print the signing secret (whsec_...), making it if needed",
        description="Prints the current signing secret on stdout; during a rotation's overlap, "
        "the previous one and until when it is valid on stderr.",
    )
    rotate = actions.add_parser(
        "rotate-secret",
        help="make a new signing secret; the old one stays valid for --overlap hours",
        description="Keeps a new signing secret in the database and prints it. For the overlap "
        "every callback carries two signatures (new and old secret, as the Standard Webhooks "
        "spec allows), so receivers verifying with either accept it: move them to the new "
        f"secret within the overlap, after at least {int(REFRESH_SECONDS)} s (every process "
        "reads the secret again within that, without a restart). After the overlap only the "
        "new secret signs. A callback retried later is signed with the secrets valid then. "
        "Refused when SCRIBE_WEBHOOK_SECRET is set: change that setting instead.",
    )
    rotate.add_argument(
        "--overlap",
        type=_hours,
        default=24.0,
        metavar="HOURS",
        help="how long the old secret stays valid (default 24; 0 stops it at once)",
    )
    rotate.add_argument(
        "--force",
        action="store_true",
        help="rotate even while a previous rotation's old secret is still valid (it stops now)",
    )


def _hours(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("give a number of hours") from None
    if not 0 <= number <= 24 * 365:
        raise argparse.ArgumentTypeError("must be 0 to 8760 hours")
    return number


def _webhooks(args: argparse.Namespace) -> int:
    from scribe.adapters.webhooks.secret import (
        FROM_DATABASE,
        rotate_signing_secret,
        signing_keys,
    )
    from scribe.bootstrap import build_storage
    from scribe.config import Settings

    settings = Settings()
    storage = None
    if settings.webhook_secret is None:
        storage = build_storage(settings)
        assert storage.database is not None
        storage.database.upgrade()
    store = None if storage is None else storage.secrets
    if args.action == "rotate-secret":
        keys = rotate_signing_secret(
            settings, store, timedelta(hours=args.overlap), force=args.force
        )
    else:
        keys = signing_keys(settings, store)
    source = keys.source
    if source == FROM_DATABASE and storage is not None and storage.database is not None:
        source = f"the database {storage.database.safe_url}"
    what = "New signing secret" if args.action == "rotate-secret" else "Signing secret"
    print(f"{what} for job callbacks (from {source}); keep it secret:", file=sys.stderr)
    print(keys.current)
    until = keys.previous_until
    if keys.previous is not None and until is not None and datetime.now(UTC) < until:
        print(
            f"The previous secret stays valid until {until.astimezone(UTC):%Y-%m-%d %H:%M:%S} "
            "UTC (callbacks carry both signatures until then; move receivers to the new one "
            f"before): {keys.previous}",
            file=sys.stderr,
        )
    return 0


# --- end of webhooks -----------------------------------------------------------------------


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 (no limit) or more")
    return number


def _amount(value: str) -> float:
    number = float(value)
    if not number >= 0:
        raise argparse.ArgumentTypeError("must be 0 (no limit) or more")
    return number


def _since(value: str) -> date:
    value = value.strip()
    if value.endswith("d") and value[:-1].isdigit():
        return datetime.now(UTC).date() - timedelta(days=int(value[:-1]))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "give a date (YYYY-MM-DD) or a number of days (7d)"
        ) from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # `transcribe`, `keys` and `db` print results on stdout: keep the log to warnings unless asked.
    default_level = (
        "warning" if args.command in ("transcribe", "keys", "db", "jobs", "webhooks") else "info"
    )
    level = os.environ.get("SCRIBE_LOG_LEVEL", default_level).upper()
    log_format = os.environ.get("SCRIBE_LOG_FORMAT", "text").strip().lower()
    from scribe.logging_setup import FORMATS, configure_logging

    if log_format not in FORMATS:
        print(
            f"scribe: SCRIBE_LOG_FORMAT must be text or json, not {log_format!r}", file=sys.stderr
        )
        return 2
    configure_logging(level, log_format)  # request and job ids on every line
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "worker":
            return _worker(args)
        if args.command == "transcribe":
            return _transcribe(args)
        if args.command == "eval":
            return _eval(args)
        if args.command == "keys":
            return _keys(args)
        if args.command == "db":
            return _db(args)
        if args.command == "jobs":
            return _jobs(args)
        if args.command == "webhooks":
            return _webhooks(args)
    except ScribeError as exc:
        print(f"scribe: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from scribe.api.app import create_app
    from scribe.api.server import GracefulServer, exit_promptly, serve
    from scribe.bootstrap import build_services, prepare
    from scribe.config import Settings
    from scribe.use_cases.warm_up import WarmUp

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides)
    services = build_services(settings)
    prepare(services)  # the database schema first: a newer one stops here, clearly
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
    from scribe.logging_setup import logging_config

    grace = settings.shutdown_grace_seconds
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=logging_config(settings.log_level, settings.log_format),
        # A backstop: the graceful shutdown answers the waiting clients before this.
        timeout_graceful_shutdown=max(1, int(grace - 1)),
    )
    shutdown = services.shutdown
    server = GracefulServer(config, on_signal=shutdown.begin if shutdown else lambda: None)
    serve(server)
    code = 2 if services.warm_up.error is not None else 0
    if shutdown is not None and shutdown.started:
        exit_promptly(code)
    return code


def _worker(args: argparse.Namespace) -> int:
    from scribe.adapters.queue.celery_queue import on_worker_shutdown, run_worker
    from scribe.bootstrap import build_services, build_worker, prepare, worker_engines
    from scribe.config import Settings

    given = Settings(
        **({"worker_engines": args.engines} if args.engines else {}),
        **({"metrics_port": args.metrics_port} if args.metrics_port is not None else {}),
    )
    engines = worker_engines(given)
    settings = given.model_copy(
        update={
            "asr_engine": ",".join(engines),  # load only the engines this worker serves
            "worker_concurrency": args.concurrency or given.worker_concurrency,
        }
    )
    services = build_services(settings, role="worker")
    prepare(services)
    services.warm_up.run()  # every engine loads once, before the first job is taken
    if services.warm_up.error is not None:
        print(f"scribe: cannot start: {services.warm_up.error.message}", file=sys.stderr)
        return 2
    job_worker = build_worker(services, engines)
    assert services.scale is not None
    if settings.metrics_port and services.metrics is not None:
        services.metrics.serve(settings.metrics_port)
    on_worker_shutdown(job_worker.shutdown.begin)  # SIGTERM: Celery's warm shutdown begins

    def exit_now() -> None:
        # Jobs were handed back: Celery's warm shutdown would wait for their engine threads.
        job_worker.stop()
        logging.shutdown()
        os._exit(0)

    job_worker.on_handed_back = exit_now
    job_worker.start()
    try:
        run_worker(
            services.scale.celery,
            queues=engines,
            concurrency=settings.worker_concurrency,
            name=job_worker.info.name,
            loglevel=settings.log_level,
        )
    finally:
        job_worker.stop()
    return 0


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
        return list(diarizer.diarize(decode(path), SpeakerHints()).turns)

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


def _keys(args: argparse.Namespace) -> int:
    from scribe.bootstrap import build_keys, build_storage
    from scribe.config import Settings
    from scribe.domain.caller import Scope
    from scribe.domain.limits import KeyLimits

    settings = Settings()
    storage = build_storage(settings)
    if storage.database is not None:
        storage.database.upgrade()
    keys = build_keys(settings, storage.keys)
    if args.action == "create":
        audio = args.audio_minutes_per_hour
        issued = keys.create(
            args.name,
            Scope(args.scope),
            KeyLimits(
                requests_per_minute=args.rpm,
                audio_seconds_per_hour=None if audio is None else round(audio * 60),
                concurrent_requests=args.concurrency,
            ),
        )
        record = issued.record
        print(
            f"Created {record.scope.value} key {record.key_id} ({record.name}). It is shown "
            "once; keep it secret:",
            file=sys.stderr,
        )
        print(issued.secret)
        return 0
    if args.action == "list":
        rows = [["ID", "NAME", "PREFIX", "SCOPE", "CREATED", "LAST USED", "STATUS", "LIMITS"]]
        for key in keys.list():
            policy = key.limits.over(keys.defaults)
            rows.append(
                [
                    key.key_id,
                    key.name,
                    key.prefix + "…",
                    key.scope.value,
                    _when(key.created_at),
                    _when(key.last_used_at),
                    "active" if key.active else f"revoked {_when(key.revoked_at)}",
                    f"{_limit(policy.requests_per_minute)} rpm, "
                    f"{_limit(policy.audio_seconds_per_hour / 60)} audio min/h, "
                    f"{_limit(policy.concurrent_requests)} at once",
                ]
            )
        _table(rows)
        if len(rows) == 1:
            print("no keys yet: make one with `scribe keys create --name NAME`", file=sys.stderr)
        return 0
    if args.action == "revoke":
        revoked = keys.revoke(args.key)
        print(f"Revoked {revoked.key_id} ({revoked.name}, {revoked.prefix}…).")
        return 0
    # usage
    key_id = keys.find(args.key).key_id if args.key else None
    rows = [["DATE", "KEY", "NAME", "REQUESTS", "AUDIO MIN", "PROCESSING S", "FAILURES"]]
    for day in storage.usage.days(since=args.since, key_id=key_id):
        rows.append(
            [
                day.day.isoformat(),
                day.key_id,
                day.key_name,
                str(day.requests),
                f"{day.audio_seconds / 60:.1f}",
                f"{day.processing_seconds:.1f}",
                str(day.failures),
            ]
        )
    _table(rows)
    return 0


FILE_COLUMN = 32


def _short(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters (an ellipsis in the middle keeps the extension)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def _jobs(args: argparse.Namespace) -> int:
    import json

    from scribe.api.job_objects import job_object
    from scribe.bootstrap import build_services
    from scribe.config import Settings

    services = build_services(Settings())  # cheap: no model loads
    if services.storage.database is not None:
        services.storage.database.upgrade()
    jobs = services.jobs
    if args.action == "list":
        page, more = jobs.page(None, limit=args.limit, after=args.after, statuses=args.status)
        rows = [
            [
                "ID",
                "STATUS",
                "PROGRESS",
                "FILE",
                "TASK",
                "MODEL",
                "OWNER",
                "CREATED",
                "AUDIO S",
                "CALLBACK",
            ]
        ]
        for job in page:
            rows.append(
                [
                    job.id,
                    job.status.value,
                    f"{job.progress.stage} {job.progress.fraction:.0%}",
                    _short(job.filename or "-", FILE_COLUMN),
                    job.task.value + ("" if job.background else " (sync)"),
                    job.model or "-",
                    job.owner or "-",
                    _when(job.created_at),
                    "-" if job.usage is None else f"{job.usage.audio_seconds:.1f}",
                    _callback_cell(job),
                ]
            )
        _table(rows)
        if more:
            filters = "".join(f" --status {s}" for s in args.status)
            print(f"more: scribe jobs list --after {page[-1].id}{filters}", file=sys.stderr)
        return 0
    if args.action == "show":
        print(json.dumps(job_object(jobs.get(None, args.job_id)), indent=2))
        return 0
    job = jobs.cancel(None, args.job_id)
    print(f"{job.id}: {job.status.value}")
    if job.status.value != "cancelled":
        print("the server stops it at its next safe point", file=sys.stderr)
    return 0


def _callback_cell(job: Job) -> str:
    """``delivered``, ``pending (2 attempts)``, ``failed (8 attempts)``; ``-`` without one."""
    callback = job.callback
    if callback is None:
        return "-" if job.callback_url is None or not job.status.terminal else "none"
    if callback.status.value == "delivered":
        return "delivered"
    plural = "" if callback.attempts == 1 else "s"
    return f"{callback.status.value} ({callback.attempts} attempt{plural})"


def _db(args: argparse.Namespace) -> int:
    from scribe.bootstrap import build_storage
    from scribe.config import Settings

    database = build_storage(Settings()).database
    assert database is not None
    if args.action == "upgrade":
        database.upgrade()
        print(f"{database.safe_url}: schema at revision {database.current()}")
        return 0
    current = database.current()
    print(f"database: {database.safe_url}")
    print(f"revision: {current or 'none (empty database)'}")
    print(f"this version's newest: {database.head()}")
    return 0


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _limit(value: float) -> str:
    return "unlimited" if not value else f"{value:g}"


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


if __name__ == "__main__":
    sys.exit(main())
