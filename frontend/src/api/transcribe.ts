/**
 * The transport between the app and the server, spoken in terms of a *job*: submit a file with
 * options, follow its progress events (stage, fraction, partial segments), then get its result or
 * an error; cancel at any time. Nothing else in the app talks to the transcription endpoints.
 *
 * It runs over the jobs API: the upload is a `POST /v1/audio/jobs` sent with XMLHttpRequest (fetch
 * cannot report upload progress), answered at once with the job (202); the job's `/events` stream
 * then gives its stage, percent and finished segments, and ends with the result (or the failure).
 * Cancel aborts the upload, or asks the server to cancel the job. A job the page lost (a reload)
 * is followed again with `follow(id)`.
 *
 * The synchronous `POST /v1/audio/transcriptions` is not used: the app ships inside the service,
 * so the jobs API is always there, and a job survives a dropped connection or a reload.
 */
import { authHeaders } from '../auth/keyStore';
import { apiBase, reportUnauthorized, type Schemas, type Transcription } from './client';
import { ApiError, apiError, cancelledError, networkError, toApiError } from './errors';
import { type FollowOptions, followJobEvents, type StreamEvent } from './jobEvents';
import { cancelJob, jobFailure, jobResult, type ServerJob } from './jobs';

export interface KnownSpeakerClip {
  name: string;
  /** A 2-10 s clip of the voice, as a data URL (`data:audio/wav;base64,...`). */
  reference: string;
}

/** What the person chose before transcribing (sent as the endpoint's form fields). */
export interface TranscribeOptions {
  model: string | null;
  language: string | null;
  diarize: boolean;
  numSpeakers: number | null;
  minSpeakers: number | null;
  maxSpeakers: number | null;
  detectParagraphs: boolean;
  detectEntities: boolean;
  detectSentiment: boolean;
  textRules: string[];
  knownSpeakers: KnownSpeakerClip[];
  prompt: string | null;
}

export const DEFAULT_OPTIONS: TranscribeOptions = {
  model: null,
  language: null,
  diarize: true,
  numSpeakers: null,
  minSpeakers: null,
  maxSpeakers: null,
  detectParagraphs: true,
  detectEntities: false,
  detectSentiment: false,
  textRules: [],
  knownSpeakers: [],
  prompt: null,
};

/** Stages a job goes through: the upload, the queue, then the server's own (`decoding`, ...). */
export type JobStage = 'uploading' | 'queued' | 'decoding' | 'transcribing' | 'attributing' | 'post_processing' | 'done';

export interface JobProgress {
  stage: JobStage | (string & {});
  /** 0..1 within the stage's bar, or null when it cannot be known (an indeterminate bar). */
  fraction: number | null;
  /** Bytes sent so far, and in all, while uploading. */
  loaded?: number;
  total?: number;
}

export interface PartialSegment {
  start: number;
  end: number;
  text: string;
  speaker?: string | null;
}

export type JobEvent =
  /** The server took the job and named it (`job_...`), at `createdAt` (ms since the epoch). */
  | { type: 'accepted'; jobId: string; createdAt: number }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'segment'; segment: PartialSegment }
  /** The event stream dropped; the transport is reconnecting (attempt 1, 2, ...). */
  | { type: 'reconnecting'; attempt: number };

export interface Job {
  /** The job's id: `local_...` until the server accepts an upload (then see `accepted`). */
  readonly id: string;
  /** Settles with the transcript, or rejects with an ApiError (kind `cancelled` after cancel()). */
  readonly result: Promise<Transcription>;
  cancel(): void;
}

export interface Transport {
  /** Upload a recording as a new job and follow it. */
  submit(file: File, options: TranscribeOptions, onEvent: (event: JobEvent) => void): Job;
  /** Follow a job the server already has (one still running when the page was reloaded). */
  follow(jobId: string, onEvent: (event: JobEvent) => void): Job;
}

/** The multipart fields of POST /v1/audio/jobs, as the server declares them. */
export type JobForm = Schemas['Body_create_job_v1_audio_jobs_post'];
type FormField = keyof JobForm;

/** The multipart body: verbose_json with word and segment times, and every chosen option. */
export function buildForm(file: File, options: TranscribeOptions): FormData {
  const form = new FormData();
  const put = (name: FormField, value: string | number | boolean | null | undefined): void => {
    if (value === null || value === undefined || value === '') return;
    form.append(name, String(value));
  };
  form.append('file' satisfies FormField, file, file.name);
  put('response_format', 'verbose_json' satisfies JobForm['response_format']);
  form.append('timestamp_granularities[]' satisfies FormField, 'word');
  form.append('timestamp_granularities[]' satisfies FormField, 'segment');
  put('model', options.model);
  put('language', options.language);
  put('prompt', options.prompt);
  put('diarize', options.diarize);
  if (options.diarize) {
    if (options.numSpeakers) {
      put('num_speakers', options.numSpeakers);
    } else {
      put('min_speakers', options.minSpeakers);
      put('max_speakers', options.maxSpeakers);
    }
    for (const clip of options.knownSpeakers) {
      if (!clip.name.trim() || !clip.reference) continue;
      form.append('known_speaker_names[]' satisfies FormField, clip.name.trim());
      form.append('known_speaker_references[]' satisfies FormField, clip.reference);
    }
  }
  put('detect_paragraphs', options.detectParagraphs);
  put('detect_entities', options.detectEntities);
  put('detect_sentiment', options.detectSentiment);
  for (const rule of options.textRules) form.append('text_rules[]' satisfies FormField, rule);
  return form;
}

let counter = 0;
function localId(): string {
  counter += 1;
  return `local_${Date.now().toString(36)}${counter.toString(36)}`;
}

/** POST the form with XMLHttpRequest, for its upload progress; resolves with the accepted job. */
function upload(request: XMLHttpRequest, file: File, options: TranscribeOptions, onEvent: (event: JobEvent) => void): Promise<ServerJob> {
  return new Promise<ServerJob>((resolve, reject) => {
    request.open('POST', `${apiBase()}/v1/audio/jobs`);
    for (const [name, value] of Object.entries(authHeaders())) request.setRequestHeader(name, value);
    request.setRequestHeader('Accept', 'application/json');
    let sent = false;
    request.upload.onprogress = (event: ProgressEvent) => {
      const total = event.lengthComputable ? event.total : file.size;
      onEvent({
        type: 'progress',
        progress: { stage: 'uploading', fraction: total ? Math.min(1, event.loaded / total) : null, loaded: event.loaded, total },
      });
    };
    request.upload.onload = () => {
      sent = true;
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        try {
          const job = JSON.parse(request.responseText) as ServerJob;
          if (typeof job.id !== 'string') throw new Error('no id');
          resolve(job);
        } catch {
          reject(new ApiError(request.status, 'The server accepted the upload but sent a job this app cannot read.', { kind: 'server' }));
        }
        return;
      }
      const error = apiError(request.status, request.responseText, (name) => request.getResponseHeader(name));
      reportUnauthorized(error);
      reject(error);
    };
    request.onerror = () => {
      // A server that refuses an upload early (413) may close the connection before the
      // browser has sent it all: the browser then reports a network error.
      reject(
        sent
          ? networkError('The connection closed before the server answered the upload. Check the server and try again.')
          : networkError('The connection closed during the upload. The server may be down, or the file may be larger than it accepts.'),
      );
    };
    request.onabort = () => reject(cancelledError());
    onEvent({ type: 'progress', progress: { stage: 'uploading', fraction: 0, loaded: 0, total: file.size } });
    request.send(buildForm(file, options));
  });
}

function isTranscription(value: unknown): value is Transcription {
  return typeof value === 'object' && value !== null && Array.isArray((value as { segments?: unknown }).segments) && typeof (value as { text?: unknown }).text === 'string';
}

/** The job's state as a progress event, for a job seen through GET (not its stream). */
function progressOf(job: ServerJob): JobProgress {
  if (job.status === 'queued') return { stage: 'queued', fraction: null };
  return { stage: job.progress.stage, fraction: job.progress.fraction };
}

function translate(event: StreamEvent, onEvent: (event: JobEvent) => void): void {
  switch (event.type) {
    case 'job.in_progress':
      onEvent({ type: 'progress', progress: { stage: 'decoding', fraction: 0 } });
      break;
    case 'job.progress':
      onEvent({ type: 'progress', progress: { stage: event.stage, fraction: event.fraction } });
      break;
    case 'transcript.text.segment':
      onEvent({ type: 'segment', segment: { start: event.start, end: event.end, text: event.text, speaker: event.speaker ?? null } });
      break;
    default:
      break;
  }
}

/** Cancelling a job: abort the upload while there is no server id, then ask the server. */
class Control {
  private readonly aborter = new AbortController();
  serverId: string | null = null;
  cancelled = false;
  onCancel: (() => void) | null = null;
  /** Why the job ended early (set before the stream is aborted). */
  reason: ApiError | null = null;

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.serverId) this.cancelOnServer();
    else this.onCancel?.();
  }

  cancelOnServer(): void {
    if (!this.serverId) return;
    cancelJob(this.serverId).then(
      (job) => {
        // Still stopping, or ended first: the stream brings how it ended.
        if (job.status === 'cancelled') this.stop(cancelledError());
      },
      (error: unknown) => {
        const failure = toApiError(error);
        // 409: the job ended first; its stream brings the result or the failure.
        if (failure.status !== 409) this.stop(failure);
      },
    );
  }

  private stop(reason: ApiError): void {
    this.reason ??= reason;
    this.aborter.abort();
  }
}

export interface JobsTransportDeps {
  /** Makes the upload's request (injectable for tests). */
  xhr?: () => XMLHttpRequest;
  /** Passed to the event stream: `sleep`, `giveUpMs`, `stallMs` (tests shorten them). */
  stream?: Pick<FollowOptions, 'sleep' | 'giveUpMs' | 'stallMs'>;
}

/** The transport over the jobs API. */
export function createJobsTransport(deps: JobsTransportDeps = {}): Transport {
  const makeXhr = deps.xhr ?? (() => new XMLHttpRequest());

  /** The stream to its end: the result, or the job's failure as an ApiError. */
  async function toResult(jobId: string, onEvent: (event: JobEvent) => void, signal: AbortSignal): Promise<Transcription> {
    const end = await followJobEvents(jobId, {
      ...deps.stream,
      signal,
      onEvent: (event) => translate(event, onEvent),
      onReconnect: (attempt) => onEvent({ type: 'reconnecting', attempt }),
    });
    switch (end.type) {
      case 'job.completed': {
        onEvent({ type: 'progress', progress: { stage: 'done', fraction: 1 } });
        // The final event carries the result in the job's own format: verbose_json for the jobs
        // this app submits; others (the CLI's, in text) are fetched as verbose_json.
        return isTranscription(end.result) ? end.result : jobResult(jobId, signal);
      }
      case 'job.failed':
        throw jobFailure(end.error ?? end.job.error);
      case 'job.cancelled':
        throw cancelledError();
      case 'error':
        throw jobFailure(end.error);
    }
  }

  /** A Job whose `run` follows the server's job; cancel() asks the server once it has an id. */
  function handle(id: string, run: (control: Control) => Promise<Transcription>): Job {
    const control = new Control();
    const result = run(control).catch((error: unknown) => {
      // Aborted by cancel(): the reason is the cancellation (or why it failed).
      throw control.reason ?? toApiError(error);
    });
    return { id, result, cancel: () => control.cancel() };
  }

  return {
    submit(file, options, onEvent) {
      const request = makeXhr();
      return handle(localId(), async (control) => {
        control.onCancel = () => request.abort();
        const job = await upload(request, file, options, onEvent);
        control.serverId = job.id;
        onEvent({ type: 'accepted', jobId: job.id, createdAt: job.created_at * 1000 });
        onEvent({ type: 'progress', progress: progressOf(job) });
        if (control.cancelled) control.cancelOnServer(); // asked during the last bytes of the upload
        return toResult(job.id, onEvent, control.signal);
      });
    },
    follow(jobId, onEvent) {
      return handle(jobId, async (control) => {
        control.serverId = jobId;
        // The stream from the start replays the job's progress and segments, and ends at once
        // for a job that has ended (with its result or error): no GET first, one request less
        // against the key's concurrency limit, which every open stream counts against.
        return toResult(jobId, onEvent, control.signal);
      });
    },
  };
}

/** The transport the app uses. */
export const transport: Transport = createJobsTransport();
