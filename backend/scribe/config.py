"""All settings, read from the environment (prefix ``SCRIBE_``) or a ``.env`` file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scribe.adapters.asr.nemo_source import DEFAULT_MODEL as DEFAULT_NEMO_MODEL
from scribe.adapters.diarization.pyannote_source import DEFAULT_PIPELINE
from scribe.adapters.webhooks.secret import validate_secret


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "scribe"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "scribe"


class Settings(BaseSettings):
    """Service settings. Every field is ``SCRIBE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="SCRIBE_", env_file=".env", extra="ignore")

    # --- server -----------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `scribe serve` listens on.")
    port: int = Field(20301, description="Port `scribe serve` listens on.")
    max_upload_mb: float = Field(
        500.0, gt=0, description="Largest accepted upload in MB; larger ones get HTTP 413."
    )
    max_audio_minutes: float | None = Field(
        240.0,
        gt=0,
        description="Longest accepted recording in minutes; longer ones get HTTP 400 naming the "
        "limit (decoding stops there).",
    )
    max_decode_seconds: float = Field(
        300.0,
        gt=0,
        description="Give up decoding an upload after this many seconds (HTTP 400, "
        "`decode_timeout`).",
    )
    max_concurrent_jobs: int = Field(
        0,
        ge=0,
        description="Jobs (every request is one) run at once; the rest wait in the queue. 0: one "
        "per GPU, or on the CPU as many as its cores allow with SCRIBE_WHISPER_CPU_THREADS each.",
    )
    release_memory: bool = Field(
        True,
        description="After each transcription, hand the memory it freed back to the operating "
        "system (glibc's `malloc_trim`, a few milliseconds): without it a process that has "
        "transcribed an hour-long recording stays about 1.4 GB larger while idle. No effect "
        "where the C library is not glibc.",
    )
    job_queue_size: int = Field(
        64,
        ge=1,
        description="Jobs that may wait for a free slot (synchronous requests included); when "
        "full, requests get HTTP 503 with Retry-After. Waiting uploads are on disk, not in memory.",
    )
    job_retention_hours: float = Field(
        24.0,
        gt=0,
        description="Finished jobs (record, audio and result) are deleted this long after they end.",
    )
    job_max_attempts: int = Field(
        3,
        ge=1,
        description="A job interrupted this many times (the server stopped or crashed while "
        "running it) fails instead of running again.",
    )
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`text`: one readable line per record. `json`: one JSON object per line "
        "(time, level, logger, message, request_id, job_id, exception) for log collectors.",
    )
    shutdown_grace_seconds: float = Field(
        8.0,
        ge=0,
        description="On SIGTERM (`docker stop`), running jobs may finish for this long; then "
        "they go back to the queue (run at the next start or by another worker) and waiting "
        "clients get HTTP 503 with Retry-After. Keep it under the SIGKILL delay (docker: 10 s).",
    )
    metrics_public: bool = Field(
        False,
        description="Serve GET /metrics to anyone. Otherwise, while API keys are required, it "
        "needs an admin key (`Authorization: Bearer KEY`, Prometheus' `authorization` setting).",
    )
    metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="`scribe worker`: serve its Prometheus metrics on this port (0: none).",
    )

    # --- scale-out (API nodes and workers) --------------------------------------------------
    job_queue: Literal["memory", "celery"] = Field(
        "memory",
        description="`memory`: one process runs the API and the jobs. `celery`: `scribe serve` is "
        "an API node that loads no models and sends jobs over SCRIBE_REDIS_URL to `scribe "
        "worker` processes (use PostgreSQL as SCRIBE_DATABASE_URL).",
    )
    job_blob_store: Literal["auto", "directory", "redis"] = Field(
        "auto",
        description="Where job audio and results wait: `directory` (the data directory; shared "
        "by every process), `redis` (compressed as uploaded, with a time limit), `auto`: redis "
        "with SCRIBE_JOB_QUEUE=celery, else directory.",
    )
    job_blob_ttl_hours: float = Field(
        0.0,
        ge=0,
        description="With the Redis blob store: audio and results expire this long after they "
        "are written. 0: the retention time plus one hour.",
    )
    celery_visibility_timeout_seconds: int = Field(
        21600,
        ge=1,
        description="A job a worker took and did not acknowledge (the worker died) goes to "
        "another worker after this long; keep it above the longest job. Jobs of a dead worker "
        "are usually re-sent sooner, once its lease expires.",
    )
    job_lease_seconds: float = Field(
        30.0,
        gt=0,
        description="A worker renews the lease of the job it runs; a job whose lease lapsed "
        "this long (its worker died) runs again on another worker.",
    )
    job_requeue_after_seconds: float = Field(
        60.0,
        ge=1,
        description="API nodes (SCRIBE_JOB_QUEUE=celery) send a job again when it has waited this "
        "long with no message in the broker (lost when an API node crashed while sending it, or "
        "Redis restarted without AOF), or ran this long with no worker holding its lease. One "
        "node sweeps at a time, every half of this. Sending twice never runs a job twice.",
    )
    worker_concurrency: int = Field(
        1,
        ge=1,
        description="Jobs one `scribe worker` runs at once (threads sharing its models; one per "
        "GPU is the usual shape).",
    )
    worker_engines: str = Field(
        "",
        description="The engines (queues) `scribe worker` serves, comma-separated (`whisper`, "
        "`nemo`). Empty: SCRIBE_ASR_ENGINE.",
    )

    # --- data, keys and limits --------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the service keeps its data: the SQLite database `scribe.db` (unless "
        "SCRIBE_DATABASE_URL names another database) and jobs' audio and results (`jobs/`).",
    )
    database_url: SecretStr | None = Field(
        None,
        description="Database for keys, usage, jobs and the generated webhook secret. Unset: "
        "SQLite in the data directory. PostgreSQL: `postgresql+psycopg://USER:PASSWORD@HOST/DB`.",
    )
    redis_url: SecretStr | None = Field(
        None,
        description="Redis (`redis://HOST:6379/0`) for rate-limit counters shared by several "
        "processes, and with SCRIBE_JOB_QUEUE=celery the broker, job events and job audio. "
        "Unset: counted in this process's memory.",
    )
    auth: Literal["auto", "required", "disabled"] = Field(
        "auto",
        description="API keys on `/v1/*`: `auto` requires them once a key exists or when the "
        "server listens beyond loopback; `required`; `disabled` (logged as a warning).",
    )
    rate_limit_requests_per_minute: int = Field(
        60, ge=0, description="Requests per minute per key, unless the key has its own (0: none)."
    )
    rate_limit_audio_minutes_per_hour: float = Field(
        600.0,
        ge=0,
        description="Minutes of audio per hour per key, unless the key has its own (0: none).",
    )
    rate_limit_concurrent_requests: int = Field(
        4,
        ge=0,
        description="Requests that carry audio (transcriptions, translations, job submissions) "
        "in progress at once per key, unless the key has its own; job status, results and event "
        "streams take no slot.",
    )
    cors_origins: str = Field(
        "",
        description="Comma-separated origins whose web pages may call the API "
        "(`https://app.example.com`, or `*`). Empty: only the service's own origin.",
    )

    # --- job callbacks (webhooks) -----------------------------------------------------------
    webhook_secret: SecretStr | None = Field(
        None,
        description="Secret that signs job callbacks (Standard Webhooks: `whsec_` + base64 of "
        "24-64 bytes). Unset: one is made once and kept in the database, which every process "
        "shares; `scribe webhooks secret` prints it. Set it on every process or on none.",
    )
    callback_allow_private: bool = Field(
        False,
        description="Allow `callback_url`s that reach loopback, private, link-local or other "
        "non-public addresses. Off: they are refused with HTTP 400.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="Each callback attempt gives up after this many seconds."
    )
    webhook_max_attempts: int = Field(
        8, ge=1, description="Attempts per callback, the first included (then it is marked failed)."
    )
    webhook_backoff_seconds: float = Field(
        2.0,
        gt=0,
        description="Wait before the first retry of a callback; doubled for each later one, "
        "with random jitter.",
    )
    webhook_backoff_max_seconds: float = Field(
        600.0,
        gt=0,
        description="Longest wait between callback attempts (a receiver's Retry-After too).",
    )
    callback_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a process holds a callback it is sending; if it dies meanwhile, "
        "another process sends it again after this. Keep it above the attempt timeout.",
    )
    callback_poll_seconds: float = Field(
        1.0,
        gt=0,
        description="How often each process looks for callbacks due (jobs ending in the process "
        "are sent at once; those ended elsewhere or due for a retry wait up to this long).",
    )

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_form(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        return SecretStr(validate_secret(value.get_secret_value()))

    # --- end of job callbacks ---------------------------------------------------------------

    # --- engines ----------------------------------------------------------------------------
    asr_engine: str = Field(
        "whisper",
        description="ASR engine: `whisper` (faster-whisper) or `nemo` (Parakeet TDT); both, "
        "comma-separated (`nemo,whisper`), load both and the first is the default.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where models run: `auto` picks CUDA when available, else CPU."
    )
    allow_cpu_fallback: bool = Field(
        False, description="With device=cuda and no GPU, run on CPU instead of failing at startup."
    )
    allow_downloads: bool = Field(
        False,
        description="Allow fetching model weights from the Hugging Face Hub. Off: only bundled "
        "weights and local paths are used.",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Where joined bundled weights and other caches live.",
    )

    whisper_model: str = Field(
        "base",
        description="`base` (bundled, offline), a local CTranslate2 model folder, or a hub name "
        "such as `Systran/faster-whisper-small` (needs SCRIBE_ALLOW_DOWNLOADS=true).",
    )
    whisper_compute_type: str = Field(
        "default",
        description="CTranslate2 compute type: `default` (int8 on CPU, float16 on GPU), `int8`, "
        "`float16`, `float32`, ...",
    )
    whisper_beam_size: int = Field(5, ge=1, description="Beam size for Whisper decoding.")
    whisper_cpu_threads: int = Field(
        0, ge=0, description="CPU threads for Whisper; 0 means one per available CPU core."
    )
    whisper_temperature_fallback: bool = Field(
        True,
        description="On the sequential path (SCRIBE_WHISPER_BATCH_SIZE=0): re-decode badly "
        "decoded windows at rising temperatures (OpenAI's behaviour; random). Off: one "
        "deterministic pass, faster on hard audio. The batched path always decodes once.",
    )
    whisper_vad_filter: bool = Field(
        False,
        description="Skip silence with faster-whisper's Silero VAD before decoding, on the "
        "sequential path (the batched path always cuts at the pauses the VAD finds).",
    )
    whisper_batch_size: int | None = Field(
        None,
        ge=0,
        description="Voice-activity windows (up to 30 s each) Whisper decodes at once, each on "
        "its own: deterministic, no repetition loops. Unset: 8 on CPU, 16 on CUDA. 0 or 1: "
        "faster-whisper's sequential path (where the VAD filter and temperature fallback apply).",
    )

    nemo_model: str = Field(
        DEFAULT_NEMO_MODEL,
        description="NeMo ASR model: a hub name or a local `.nemo` file.",
    )
    nemo_chunk_seconds: float = Field(
        300.0, gt=10, description="Longer recordings are transcribed in chunks of this length."
    )
    nemo_fp16: bool = Field(True, description="Run NeMo in float16 on CUDA.")

    diarizer: Literal["embedded", "pyannote", "none"] = Field(
        "embedded",
        description="Diarizer: `embedded` (CPU, offline, bundled weights), `pyannote`, or `none`.",
    )
    embedded_diarizer_precision: Literal["float32", "bfloat16", "int8", "auto"] = Field(
        "float32",
        description="Precision of the embedded diarizer's segmentation network. `bfloat16` "
        "halves the diarizer's segmentation time on CPUs that compute bfloat16 natively "
        "(AVX512-BF16 or AMX: recent Xeons) at a small accuracy cost, and slows it down "
        "elsewhere; `auto` takes bfloat16 only on such CPUs. `int8` (int8 weights in its LSTM "
        "stack) takes 15-18 % off the diarizer's CPU time on any x86 CPU, at a small "
        "accuracy cost.",
    )
    embedded_diarizer_workers: int = Field(
        2,
        ge=1,
        le=64,
        description="Threads the embedded diarizer runs its segmentation batches and speaker "
        "features on, per recording (each single-threaded): 2 nearly halves its time on two "
        "idle cores, and beside ASR lets it use idle time on either core. More helps on more "
        "cores; 1 keeps it on one thread.",
    )
    diarizer_nice: int = Field(
        19,
        ge=0,
        le=19,
        description="Niceness added to the thread that diarizes beside ASR (Linux): ASR, the "
        "slower stage, keeps the cores and diarization takes the time it leaves idle "
        "(research/parallel-cpu.md). 0 runs both at the same priority.",
    )
    diarize_by_default: bool = Field(
        True,
        description="Diarize requests that do not say `diarize` (when a diarizer is on). "
        "Requests naming one of OpenAI's model ids get speakers only when they ask.",
    )

    pyannote_pipeline: str = Field(
        DEFAULT_PIPELINE,
        description="pyannote pipeline: a hub name (`pyannote/speaker-diarization-community-1`, "
        "`pyannote/speaker-diarization-3.1`) or a local folder with `config.yaml`.",
    )
    hf_token: SecretStr | None = Field(
        None, description="Hugging Face token for gated models (HF_TOKEN is read too)."
    )

    # --- post-processing --------------------------------------------------------------------
    text_rules_file: Path | None = Field(
        None, description="YAML file of named text rule sets (find/replace, fillers, profanity)."
    )
    paragraph_pause_seconds: float = Field(
        1.5, gt=0, description="A pause at least this long starts a new paragraph."
    )
    paragraph_max_sentences: int = Field(
        6, ge=1, description="A paragraph holds at most this many sentences."
    )

    @field_validator("asr_engine")
    @classmethod
    def _known_engines(cls, value: str) -> str:
        engines = [e.strip() for e in value.split(",") if e.strip()]
        unknown = [e for e in engines if e not in ("whisper", "nemo")]
        if not engines or unknown:
            raise ValueError(f"must be `whisper`, `nemo` or both comma-separated, got {value!r}")
        return ",".join(dict.fromkeys(engines))

    @property
    def asr_engines(self) -> list[str]:
        return self.asr_engine.split(",")

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
