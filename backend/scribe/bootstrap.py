"""The composition root: the only place adapters are built and wired to the use cases."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scribe.config import Settings
from scribe.domain.errors import ConfigurationError, ModelUnavailable
from scribe.domain.jobs import Job, JobStatus
from scribe.domain.limits import RatePolicy
from scribe.ports.asr_engine import AsrEngine
from scribe.ports.audio_decoder import AudioDecoder
from scribe.ports.blob_store import BlobStore
from scribe.ports.callback_outbox import CallbackOutbox
from scribe.ports.diarizer import Diarizer
from scribe.ports.job_events import JobEvents
from scribe.ports.job_queue import JobQueue
from scribe.ports.job_store import JobStore
from scribe.ports.key_store import KeyStore
from scribe.ports.post_processor import PostProcessor
from scribe.ports.rate_limiter import RateLimiter
from scribe.ports.service_secrets import ServiceSecrets
from scribe.ports.usage_meter import UsageMeter
from scribe.ports.webhooks import WebhookSender
from scribe.ports.workers import WorkerRegistry
from scribe.use_cases.callback_delivery import CallbackDelivery, CallbackPolicy
from scribe.use_cases.engines import AsrEngines
from scribe.use_cases.job_reconciler import JobReconciler, sweep_interval
from scribe.use_cases.job_runner import JobRunner
from scribe.use_cases.jobs import Cancellations, Jobs, RunTimes
from scribe.use_cases.keys import ApiKeys, AuthMode
from scribe.use_cases.model_info import ModelInfo, models_info
from scribe.use_cases.options import OptionsBuilder
from scribe.use_cases.shutdown import GracefulShutdown
from scribe.use_cases.transcribe import TranscribeAudio
from scribe.use_cases.usage import MeteredDecoder, Metering, UsageReports
from scribe.use_cases.warm_up import WarmUp

if TYPE_CHECKING:
    from celery import Celery
    from redis import Redis

    from scribe.adapters.db import Database
    from scribe.adapters.metrics.prometheus_metrics import ServiceMetrics
    from scribe.adapters.webhooks.secret import SigningSecret
    from scribe.use_cases.job_worker import JobWorker

Role = Literal["serve", "worker"]

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the API and the CLI need, built once per process."""

    settings: Settings
    decoder: AudioDecoder
    engines: AsrEngines
    diarizer: Diarizer | None
    options: OptionsBuilder
    transcribe: TranscribeAudio
    warm_up: WarmUp
    storage: Storage = field(repr=False)
    keys: ApiKeys = field(repr=False)
    metering: Metering = field(repr=False)
    usage: UsageReports = field(repr=False)
    jobs: Jobs = field(repr=False)
    runner: JobRunner = field(repr=False)
    prepared: bool = False
    # What readiness checks besides the models (an API node: its broker and database); each
    # raises when its service cannot be reached.
    dependencies: Mapping[str, Callable[[], object]] = field(default_factory=dict, repr=False)
    scale: Scale | None = field(default=None, repr=False)
    workers: WorkerRegistry | None = field(default=None, repr=False)
    # Prometheus metrics of this process (GET /metrics; `scribe worker --metrics-port`).
    metrics: ServiceMetrics | None = field(default=None, repr=False)
    # What SIGTERM starts (`scribe serve`; a worker has its own, see build_worker).
    shutdown: GracefulShutdown | None = field(default=None, repr=False)
    # The callbacks' signing secret, found in ``prepare`` (None with an overridden sender).
    webhook_secret: SigningSecret | None = field(default=None, repr=False)

    def models(self) -> list[ModelInfo]:
        """The engines and the diarizer this process serves: device, dtype, loaded."""
        return models_info(list(self.engines.all), self.diarizer, ready=self.warm_up.ready)


@dataclass
class Scale:
    """The scaled shape's parts (SCRIBE_JOB_QUEUE=celery): the broker's Celery application,
    the Redis client every Redis adapter shares, and how a job's queue is chosen."""

    celery: Celery
    redis: Redis
    route: Callable[[str], str]


@dataclass(frozen=True)
class Overrides:
    """Adapters to use instead of the ones the settings name (tests and benchmarks use fakes
    here, so that what they exercise is the real wiring). None keeps the configured one."""

    decoder: AudioDecoder | None = None
    asr_engines: Sequence[AsrEngine] | None = None
    diarizer: Diarizer | None = None
    post_processors: Sequence[PostProcessor] | None = None
    key_store: KeyStore | None = None
    usage_meter: UsageMeter | None = None
    rate_limiter: RateLimiter | None = None
    job_store: JobStore | None = None
    blob_store: BlobStore | None = None
    webhooks: WebhookSender | None = None
    # The outbox the overridden job store writes callbacks to (None with an overridden job
    # store: no callbacks are delivered).
    callback_outbox: CallbackOutbox | None = None


@dataclass
class Storage:
    """What the service keeps: the database (None when every store is overridden) and the
    stores on it; ``callbacks`` is the outbox the job store writes ended jobs' callbacks to,
    ``secrets`` the secrets every process shares (None without a database)."""

    database: Database | None
    keys: KeyStore
    usage: UsageMeter
    jobs: JobStore
    blobs: BlobStore
    callbacks: CallbackOutbox | None = None
    secrets: ServiceSecrets | None = None


def database_url(settings: Settings) -> str:
    """SCRIBE_DATABASE_URL, or the SQLite file in the data directory."""
    from scribe.adapters.db import default_url

    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return default_url(settings.data_dir)


def build_storage(settings: Settings, overrides: Overrides | None = None) -> Storage:
    """The database and its stores (cheap: nothing connects until it is used)."""
    overrides = overrides or Overrides()
    database = None
    if overrides.key_store is None or overrides.usage_meter is None or overrides.job_store is None:
        from scribe.adapters.db import Database

        database = Database(database_url(settings))
    keys: KeyStore
    usage: UsageMeter
    if overrides.key_store is not None:
        keys = overrides.key_store
    else:
        from scribe.adapters.db.key_store import SqlKeyStore

        assert database is not None
        keys = SqlKeyStore(database)
    if overrides.usage_meter is not None:
        usage = overrides.usage_meter
    else:
        from scribe.adapters.db.usage_meter import SqlUsageMeter

        assert database is not None
        usage = SqlUsageMeter(database)
    jobs: JobStore
    callbacks: CallbackOutbox | None
    if overrides.job_store is not None:
        jobs = overrides.job_store
        callbacks = overrides.callback_outbox
    else:
        from scribe.adapters.db.callback_outbox import SqlCallbackOutbox
        from scribe.adapters.db.job_store import SqlJobStore

        assert database is not None
        jobs = SqlJobStore(database, describe=describe_job)
        callbacks = SqlCallbackOutbox(database)
    blobs: BlobStore
    if overrides.blob_store is not None:
        blobs = overrides.blob_store
    elif blob_store_kind(settings) == "redis":
        from scribe.adapters.blobs.redis_blobs import RedisBlobStore

        blobs = RedisBlobStore(redis_client(settings), ttl_seconds=blob_ttl_seconds(settings))
    else:
        from scribe.adapters.blobs.directory import DirectoryBlobStore

        blobs = DirectoryBlobStore(Path(settings.data_dir).expanduser() / "jobs")
    secrets: ServiceSecrets | None = None
    if database is not None:
        from scribe.adapters.db.service_secrets import SqlServiceSecrets

        secrets = SqlServiceSecrets(database)
    return Storage(
        database=database,
        keys=keys,
        usage=usage,
        jobs=jobs,
        blobs=blobs,
        callbacks=callbacks,
        secrets=secrets,
    )


def describe_job(job: Job) -> Mapping[str, Any]:
    """A job as the API shows it: the payload of its callback."""
    from scribe.api.job_objects import job_object

    return job_object(job)


_redis_clients: dict[str, Redis] = {}


def redis_client(settings: Settings) -> Redis:
    """One client (one connection pool) per Redis URL in this process."""
    if settings.redis_url is None:
        raise ConfigurationError(
            "SCRIBE_JOB_QUEUE=celery and the Redis blob store need SCRIBE_REDIS_URL "
            "(redis://HOST:6379/0).",
            code="redis_url_missing",
        )
    url = settings.redis_url.get_secret_value()
    if url not in _redis_clients:
        from redis import Redis

        _redis_clients[url] = Redis.from_url(url, health_check_interval=30)
    return _redis_clients[url]


def blob_store_kind(settings: Settings) -> Literal["directory", "redis"]:
    if settings.job_blob_store == "auto":
        return "redis" if settings.job_queue == "celery" else "directory"
    return settings.job_blob_store


def blob_ttl_seconds(settings: Settings) -> int:
    hours = settings.job_blob_ttl_hours or settings.job_retention_hours + 1
    return max(60, round(hours * 3600))


def build_scale(settings: Settings, storage: Storage, engines: AsrEngines) -> Scale:
    """The Celery application and the router of jobs to their engine's queue."""
    from scribe.adapters.queue.celery_queue import celery_app

    client = redis_client(settings)
    assert settings.redis_url is not None
    app = celery_app(
        settings.redis_url.get_secret_value(),
        visibility_timeout=settings.celery_visibility_timeout_seconds,
    )
    kinds = engine_kinds(settings)
    store = storage.jobs

    def route(job_id: str) -> str:
        job = store.get(job_id)
        model = job.model if job is not None and job.model else engines.default.name
        return kinds.get(model, settings.asr_engines[0])

    return Scale(celery=app, redis=client, route=route)


def engine_kinds(settings: Settings) -> dict[str, str]:
    """Each model id this configuration serves, to its engine (the queue its jobs go to)."""
    return {
        engine_name("whisper", settings.whisper_model): "whisper",
        engine_name("nemo", settings.nemo_model): "nemo",
    }


def build_rate_limiter(settings: Settings) -> RateLimiter:
    from scribe.adapters.limits.limits_rate_limiter import LimitsRateLimiter

    url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
    return LimitsRateLimiter(url)


def default_rate_policy(settings: Settings) -> RatePolicy:
    return RatePolicy(
        requests_per_minute=settings.rate_limit_requests_per_minute,
        audio_seconds_per_hour=round(settings.rate_limit_audio_minutes_per_hour * 60),
        concurrent_requests=settings.rate_limit_concurrent_requests,
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` (SCRIBE_HOST) accepts connections from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it is reachable from elsewhere


def build_keys(settings: Settings, store: KeyStore) -> ApiKeys:
    return ApiKeys(
        store,
        defaults=default_rate_policy(settings),
        mode=AuthMode(settings.auth),
        loopback_only=is_loopback(settings.host),
    )


def prepare(services: Services) -> None:
    """Before serving: bring the database schema up to date (refusing a newer one) and say how
    requests are authenticated. Idempotent; raises ConfigurationError."""
    if services.prepared:
        return
    if services.storage.database is not None:
        services.storage.database.upgrade()
    if services.webhook_secret is not None:
        # Found now (the schema is up to date), so that a broken one stops the start, clearly.
        _, source = services.webhook_secret.found()
        log.info("job callbacks are signed with the secret from %s", source)
    keys = services.keys
    if keys.mode is AuthMode.DISABLED:
        log.warning(
            "SCRIBE_AUTH=disabled: every request is accepted without an API key. Anyone who can "
            "reach this server can use it."
        )
    elif keys.required() and not services.storage.keys.any():
        log.warning(
            "API keys are required (the server listens on %s) but none exists: every /v1 request "
            "is refused until one is made with `scribe keys create --name NAME`.",
            services.settings.host,
        )
    elif keys.required():
        log.info("API keys are required on /v1/*")
    else:
        log.info(
            "no API key exists and the server listens on loopback only: requests need no key "
            "(they will once `scribe keys create` makes one)"
        )
    services.prepared = True


def job_slots(settings: Settings, device: str) -> int:
    """SCRIBE_MAX_CONCURRENT_JOBS, or by default: one on a GPU (one model, one device), and on
    the CPU as many as its cores hold with SCRIBE_WHISPER_CPU_THREADS threads each (one when
    Whisper uses every core, as it does by default)."""
    if settings.max_concurrent_jobs:
        return settings.max_concurrent_jobs
    if device == "cuda":
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // whisper_cpu_threads(settings))


def build_webhooks(settings: Settings, storage: Storage) -> tuple[WebhookSender, SigningSecret]:
    """The Standard Webhooks sender for jobs' ``callback_url``, and its secret: the settings',
    or the one kept in the database (the same for every process that shares it), found on
    first use."""
    from scribe.adapters.webhooks.secret import SigningSecret
    from scribe.adapters.webhooks.sender import StandardWebhookSender

    secret = SigningSecret(settings, storage.secrets)
    return StandardWebhookSender.from_settings(settings, secret), secret


def build_callbacks(
    settings: Settings, storage: Storage, webhooks: WebhookSender | None, role: Role
) -> CallbackDelivery | None:
    """The deliverer of the outbox's callbacks for this process (None without an outbox)."""
    if storage.callbacks is None or webhooks is None:
        return None
    import socket
    import uuid

    return CallbackDelivery(
        storage.callbacks,
        webhooks,
        holder=f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
        policy=CallbackPolicy(
            max_attempts=settings.webhook_max_attempts,
            backoff_seconds=settings.webhook_backoff_seconds,
            backoff_max_seconds=settings.webhook_backoff_max_seconds,
            lease_seconds=max(settings.callback_lease_seconds, settings.webhook_timeout_seconds),
            poll_seconds=settings.callback_poll_seconds,
        ),
    )


def build_jobs(
    settings: Settings,
    storage: Storage,
    options: OptionsBuilder,
    transcribe: TranscribeAudio,
    *,
    slots: int,
    webhooks: WebhookSender | None,
    metering: Metering | None = None,
    is_ready: Callable[[], bool] = lambda: True,
    scale: Scale | None = None,
    on_job_finished: Callable[[Job], None] | None = None,
    reconcile: bool = False,
    role: Role = "serve",
    keys: ApiKeys | None = None,
) -> tuple[Jobs, JobRunner]:
    """The job use cases and their runner: on one in-process queue and event stream, or (with
    ``scale``) on Celery and Redis streams, where the runner only watches (workers run jobs)
    and, on an API node (``reconcile``), sends again the jobs whose message was lost."""
    from datetime import timedelta

    queue: JobQueue
    events: JobEvents
    if scale is None:
        from scribe.adapters.queue.memory import MemoryJobEvents, MemoryJobQueue

        queue = MemoryJobQueue(settings.job_queue_size)
        events = MemoryJobEvents()
    else:
        from scribe.adapters.queue.celery_queue import CeleryJobQueue
        from scribe.adapters.queue.redis_events import RedisJobEvents

        queue = CeleryJobQueue(
            scale.celery,
            scale.redis,
            scale.route,
            capacity=settings.job_queue_size,
            sent_ttl_seconds=max(
                blob_ttl_seconds(settings), settings.celery_visibility_timeout_seconds
            ),
        )
        events = RedisJobEvents(scale.redis, ttl_seconds=blob_ttl_seconds(settings))
    cancellations = Cancellations()
    run_times = RunTimes()
    callbacks = build_callbacks(settings, storage, webhooks, role)
    jobs = Jobs(
        storage.jobs,
        queue,
        storage.blobs,
        events,
        options,
        webhooks=webhooks,
        cancellations=cancellations,
        run_times=run_times,
        slots=slots,
        on_cancelled=None if callbacks is None else (lambda _: callbacks.wake()),
    )

    def on_finished(job: Job) -> None:
        if on_job_finished is not None:
            try:
                on_job_finished(job)
            except Exception:
                log.exception("job %s: counting it in the metrics failed", job.id)
        if metering is None or job.usage is None:
            return
        if job.background:
            metering.record_job(
                job.owner,
                job.usage.audio_seconds,
                job.usage.processing_seconds,
                failed=job.status is not JobStatus.COMPLETED,
            )
        elif scale is not None:
            # A synchronous request's job ran on a worker, whose decoding cannot charge the
            # request's admission on the API node: its audio is recorded here (the request
            # itself, and whether it failed, the API node records).
            metering.record_job(
                job.owner, job.usage.audio_seconds, job.usage.processing_seconds, failed=False
            )

    reconciler = (
        build_reconciler(settings, storage, queue, scale)
        if scale is not None and reconcile
        else None
    )
    runner = JobRunner(
        storage.jobs,
        queue,
        storage.blobs,
        events,
        options,
        transcribe,
        slots=slots,
        max_attempts=settings.job_max_attempts,
        retention=timedelta(hours=settings.job_retention_hours),
        callbacks=callbacks,
        on_finished=on_finished,
        is_ready=is_ready,
        cancellations=cancellations,
        run_times=run_times,
        consume=scale is None,
        reconcile=None if reconciler is None else reconciler.sweep,
        reconcile_seconds=sweep_interval(settings.job_requeue_after_seconds),
        charging=_charging(metering, keys),
    )
    return jobs, runner


def _charging(
    metering: Metering | None, keys: ApiKeys | None
) -> Callable[[Job], AbstractContextManager[object]] | None:
    """What charges a job's decoded audio to its owner's hourly budget when the request that
    submitted it is not in this process (a worker's job, a job run again after a restart)."""
    if metering is None or keys is None:
        return None
    return lambda job: metering.charging(lambda: keys.caller_of(job.owner))


def build_reconciler(
    settings: Settings, storage: Storage, queue: JobQueue, scale: Scale
) -> JobReconciler:
    """The sweep that sends again the jobs whose broker message was lost; under a Redis lock
    that lapses after its interval, so one node at a time sweeps (any node may)."""
    import os
    import socket

    from scribe.adapters.queue.celery_queue import CeleryJobQueue
    from scribe.adapters.queue.redis_leases import RedisJobLeases

    assert isinstance(queue, CeleryJobQueue)
    after = settings.job_requeue_after_seconds
    return JobReconciler(
        storage.jobs,
        queue,
        queue,
        RedisJobLeases(scale.redis, ttl_seconds=settings.job_lease_seconds),
        requeue_after=after,
        # A little shorter than the interval: the node that swept last may sweep again on time.
        lock=RedisJobLeases(
            scale.redis, ttl_seconds=0.9 * sweep_interval(after), prefix="scribe:lock:"
        ),
        holder=f"api@{socket.gethostname()}:{os.getpid()}",
    )


def resolve_device(settings: Settings) -> str:
    """`cpu` or `cuda`; fails clearly when CUDA is asked for and missing (unless fallback is on).

    The one place the device is decided: adapters get the answer and do not decide again.
    """
    if settings.device == "cpu":
        return "cpu"
    has_cuda = _cuda_available()
    if has_cuda:
        return "cuda"
    if settings.device == "auto":
        return "cpu"
    if settings.allow_cpu_fallback:
        log.warning("SCRIBE_DEVICE=cuda but no CUDA GPU is visible: running on the CPU instead")
        return "cpu"
    raise ModelUnavailable(
        "SCRIBE_DEVICE=cuda, but no CUDA GPU is visible to this process (check the NVIDIA driver, "
        "`nvidia-smi`, and that a CUDA build of torch is installed). Set SCRIBE_DEVICE=cpu, or "
        "SCRIBE_ALLOW_CPU_FALLBACK=true to run on the CPU when no GPU is found.",
        code="cuda_unavailable",
    )


def _cuda_available() -> bool:
    # CTranslate2 (installed with faster-whisper) answers without importing torch, which is heavy
    # and which a Whisper-only setup never needs.
    try:
        import ctranslate2

        return bool(ctranslate2.get_cuda_device_count() > 0)
    except ImportError:
        pass
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _hf_token(settings: Settings) -> str | None:
    if settings.hf_token is not None:
        return settings.hf_token.get_secret_value()
    return os.environ.get("HF_TOKEN") or None


def engine_name(kind: str, model: str) -> str:
    """The id clients pass as `model`: `whisper-base`, `parakeet-tdt-0.6b-v2`, ..."""
    stem = Path(model.rstrip("/")).name.removesuffix(".nemo")
    if kind == "whisper":
        stem = stem.removeprefix("faster-whisper-").removeprefix("whisper-")
        return f"whisper-{stem}"
    return stem


def whisper_cpu_threads(settings: Settings) -> int:
    """The configured thread count, or one per CPU this process may use.

    CTranslate2's own default is 4 threads whatever the machine (or OMP_NUM_THREADS). On the
    2-core development machine 4 and 2 threads ran alike; one per core is set so that a
    container's CPU limit, not a fixed 4, decides.
    """
    if settings.whisper_cpu_threads:
        return settings.whisper_cpu_threads
    if hasattr(os, "sched_getaffinity"):  # Linux: honours CPU pinning and container cpusets
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def build_asr_engine(kind: str, settings: Settings, device: str) -> AsrEngine:
    if kind == "nemo":
        from scribe.adapters.asr.nemo_engine import NemoEngine, configure_cuda_allocator

        configure_cuda_allocator()  # before any engine allocates GPU memory
        return NemoEngine(
            model=settings.nemo_model,
            device=device,
            fp16=settings.nemo_fp16,
            chunk_seconds=settings.nemo_chunk_seconds,
            allow_downloads=settings.allow_downloads,
            name=engine_name("nemo", settings.nemo_model),
        )
    from scribe.adapters.asr.faster_whisper_engine import FasterWhisperEngine

    return FasterWhisperEngine(
        model=settings.whisper_model,
        cache_dir=settings.cache_dir,
        device=device,
        compute_type=settings.whisper_compute_type,
        beam_size=settings.whisper_beam_size,
        cpu_threads=whisper_cpu_threads(settings),
        vad_filter=settings.whisper_vad_filter,
        temperature_fallback=settings.whisper_temperature_fallback,
        batch_size=settings.whisper_batch_size,
        allow_downloads=settings.allow_downloads,
        name=engine_name("whisper", settings.whisper_model),
    )


def build_diarizer(settings: Settings, device: str) -> Diarizer | None:
    if settings.diarizer == "none":
        return None
    if settings.diarizer == "pyannote":
        from scribe.adapters.diarization.pyannote_diarizer import PyannoteDiarizer

        return PyannoteDiarizer(
            pipeline=settings.pyannote_pipeline,
            device=device,
            hf_token=_hf_token(settings),
            allow_downloads=settings.allow_downloads,
        )
    from scribe.adapters.diarization.embedded import EmbeddedDiarizer, EmbeddedSettings

    # CPU only, whatever the device; its onnxruntime exports go under the cache directory.
    return EmbeddedDiarizer(
        EmbeddedSettings(
            cache_dir=settings.cache_dir,
            segmentation_precision=settings.embedded_diarizer_precision,
            workers=settings.embedded_diarizer_workers,
        )
    )


def build_post_processors(settings: Settings) -> list[PostProcessor]:
    """Text rules first (they change words), then paragraphs, entities, sentiment."""
    from scribe.adapters.nlp.paragraphs import ParagraphDetector
    from scribe.adapters.nlp.spacy_entities import SpacyEntityRecognizer
    from scribe.adapters.nlp.text_rules_file import (
        TextRulesError,
        TextRulesProcessor,
        load_text_rules,
    )
    from scribe.adapters.nlp.vader_sentiment import VaderSentimentAnalyzer

    try:
        rule_sets = load_text_rules(settings.text_rules_file) if settings.text_rules_file else {}
    except TextRulesError as exc:
        raise ConfigurationError(str(exc), code="invalid_text_rules") from None
    return [
        TextRulesProcessor(rule_sets),
        ParagraphDetector(
            pause_seconds=settings.paragraph_pause_seconds,
            max_sentences=settings.paragraph_max_sentences,
        ),
        SpacyEntityRecognizer(),
        VaderSentimentAnalyzer(),
    ]


def build_services(
    settings: Settings | None = None, overrides: Overrides | None = None, role: Role = "serve"
) -> Services:
    """Build every adapter the settings ask for (cheap: models load later, in ``warm_up``).

    With SCRIBE_JOB_QUEUE=celery, ``serve`` is an API node (its warm-up loads no model; jobs go
    to the broker) and ``worker`` a process that runs the broker's jobs (see ``build_worker``).
    """
    settings = settings or Settings()
    overrides = overrides or Overrides()
    decoder = overrides.decoder if overrides.decoder is not None else _build_decoder(settings)
    device = resolve_device(settings)
    if overrides.asr_engines is not None:
        engines = AsrEngines(overrides.asr_engines)
    else:
        engines = AsrEngines([build_asr_engine(k, settings, device) for k in settings.asr_engines])
    if overrides.diarizer is not None:
        diarizer: Diarizer | None = overrides.diarizer
    else:
        diarizer = build_diarizer(settings, device)
    post_processors = (
        build_post_processors(settings)
        if overrides.post_processors is None
        else list(overrides.post_processors)
    )
    storage = build_storage(settings, overrides)
    limiter = (
        overrides.rate_limiter
        if overrides.rate_limiter is not None
        else build_rate_limiter(settings)
    )
    metering = Metering(limiter, storage.usage)
    options = OptionsBuilder(
        engines,
        MeteredDecoder(decoder, max_seconds=settings.max_decode_seconds),
        diarizer_available=diarizer is not None,
        diarize_by_default=settings.diarize_by_default,
        post_processors=post_processors,
    )
    # A worker runs as many jobs at once as its Celery threads take.
    worker = settings.job_queue == "celery" and role == "worker"
    slots = settings.worker_concurrency if worker else job_slots(settings, device)
    from scribe.adapters.freed_memory import release_freed_memory
    from scribe.adapters.thread_priority import lower_thread_priority

    transcribe = TranscribeAudio(
        # Uploads: decoding is bounded in time, and its duration is charged to the request.
        decoder=MeteredDecoder(
            decoder, on_decoded=metering.charge_current, max_seconds=settings.max_decode_seconds
        ),
        engines=engines,
        diarizer=diarizer,
        post_processors=post_processors,
        max_concurrent=slots,
        diarizer_thread_setup=lower_thread_priority(settings.diarizer_nice),
        after_run=release_freed_memory if settings.release_memory else None,
    )
    webhooks: WebhookSender
    webhook_secret: SigningSecret | None = None
    if overrides.webhooks is not None:
        webhooks = overrides.webhooks
    else:
        webhooks, webhook_secret = build_webhooks(settings, storage)
    scale = build_scale(settings, storage, engines) if settings.job_queue == "celery" else None
    api_node = scale is not None and role == "serve"
    warm_up = WarmUp([] if api_node else _loaders(engines, diarizer))
    metrics = build_metrics()
    keys = build_keys(settings, storage.keys)
    jobs, runner = build_jobs(
        settings,
        storage,
        options,
        transcribe,
        slots=slots,
        webhooks=webhooks,
        metering=metering,
        is_ready=lambda: warm_up.ready,
        scale=scale,
        on_job_finished=metrics.job_finished,
        reconcile=api_node,
        role=role,
        keys=keys,
    )
    services = Services(
        settings=settings,
        decoder=decoder,
        engines=engines,
        diarizer=diarizer,
        options=options,
        transcribe=transcribe,
        warm_up=warm_up,
        storage=storage,
        keys=keys,
        metering=metering,
        usage=UsageReports(storage.usage),
        jobs=jobs,
        runner=runner,
        dependencies=_dependencies(storage, scale) if api_node else {},
        scale=scale,
        workers=_registry(settings, scale),
        metrics=metrics,
        shutdown=GracefulShutdown(runner, settings.shutdown_grace_seconds),
        webhook_secret=webhook_secret,
    )
    _add_collectors(services)
    return services


def build_metrics() -> ServiceMetrics:
    from scribe.adapters.metrics.prometheus_metrics import ServiceMetrics

    return ServiceMetrics()


def _add_collectors(services: Services) -> None:
    """The metrics read at scrape time: jobs by state, the queue, the models, GPU memory."""
    from scribe.adapters.metrics.prometheus_metrics import (
        GpuMemoryCollector,
        JobStateCollector,
        ModelCollector,
    )

    metrics = services.metrics
    assert metrics is not None
    metrics.add(JobStateCollector(services.storage.jobs, services.runner.queue))
    metrics.add(ModelCollector(services.models))
    metrics.add(GpuMemoryCollector())


def _registry(settings: Settings, scale: Scale | None) -> WorkerRegistry | None:
    if scale is None:
        return None
    from scribe.adapters.queue.redis_leases import RedisWorkerRegistry

    return RedisWorkerRegistry(scale.redis, ttl_seconds=max(10.0, settings.job_lease_seconds))


def _dependencies(storage: Storage, scale: Scale | None) -> dict[str, Callable[[], object]]:
    checks: dict[str, Callable[[], object]] = {}
    if scale is not None:
        checks["broker"] = scale.redis.ping
    if storage.database is not None:
        checks["database"] = storage.database.ping
    return checks


def build_worker(services: Services, engines: Sequence[str]) -> JobWorker:
    """A ``scribe worker``'s job use case on the services ``build_services(role="worker")``
    made: leases and its announcement in Redis, the runner's ``run`` for each delivered job."""
    from scribe.adapters.queue.celery_queue import CeleryJobQueue, register_job_task
    from scribe.adapters.queue.redis_leases import RedisJobLeases
    from scribe.ports.workers import WorkerInfo
    from scribe.use_cases.job_worker import JobWorker, worker_name

    scale = services.scale
    if scale is None:
        raise ConfigurationError(
            "`scribe worker` needs SCRIBE_JOB_QUEUE=celery and SCRIBE_REDIS_URL (the broker).",
            code="not_scaled",
        )
    settings = services.settings
    lease = settings.job_lease_seconds
    assert services.workers is not None
    worker = JobWorker(
        services.storage.jobs,
        services.runner,
        RedisJobLeases(scale.redis, ttl_seconds=lease),
        services.runner.queue,
        services.workers,
        WorkerInfo(worker_name(engines), tuple(engines), settings.worker_concurrency),
        lease_seconds=lease,
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )
    queue = services.runner.queue
    taken = queue.taken if isinstance(queue, CeleryJobQueue) else None
    register_job_task(scale.celery, worker.execute, taken)
    return worker


def worker_engines(settings: Settings) -> list[str]:
    """The engines a worker serves: SCRIBE_WORKER_ENGINES, else SCRIBE_ASR_ENGINE."""
    raw = settings.worker_engines or settings.asr_engine
    return list(dict.fromkeys(e.strip() for e in raw.split(",") if e.strip()))


def _loaders(
    engines: AsrEngines, diarizer: Diarizer | None
) -> list[tuple[str, Callable[[], None]]]:
    loaders = [(f"ASR engine {e.name}", e.load) for e in engines.all]
    if diarizer is not None:
        loaders.append((f"diarizer {diarizer.name}", diarizer.load))
    return loaders


def _build_decoder(settings: Settings) -> AudioDecoder:
    from scribe.adapters.audio.pyav_decoder import PyAVDecoder

    limit = settings.max_audio_minutes
    return PyAVDecoder(max_duration_s=None if limit is None else limit * 60)
