/**
 * The transport between the app and the server, spoken in terms of a *job*: submit a file with
 * options, follow its progress events (stage, fraction, partial segments), then get its result or
 * an error; cancel at any time. Nothing else in the app talks to the transcription endpoints.
 *
 * Today it runs over the synchronous `POST /v1/audio/transcriptions` (XMLHttpRequest, for upload
 * progress): progress is the upload percentage, then an indeterminate "transcribing" stage;
 * cancel aborts the request. When the server's jobs API lands (`POST /v1/audio/jobs`, its
 * `/events` stream, `/result` and `/cancel`), a second `Transport` replaces this one behind the
 * same interface: the upload part stays, the events come from the server.
 */
import { authHeaders } from '../auth/keyStore';
import { apiBase, reportUnauthorized, type Transcription, type TranscriptionForm } from './client';
import { ApiError, apiError, cancelledError, networkError } from './errors';

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

/** Stages a job goes through. The jobs API will report its own (`decoding`, `attributing`, ...). */
export type JobStage = 'uploading' | 'queued' | 'decoding' | 'transcribing' | 'attributing' | 'post_processing' | 'done';

export interface JobProgress {
  stage: JobStage | (string & {});
  /** 0..1 within the whole job, or null when it cannot be known (an indeterminate bar). */
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
  /** The server took the job and named it (the jobs API's `job_...`); the sync transport never sends it. */
  | { type: 'accepted'; jobId: string }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'segment'; segment: PartialSegment };

export interface Job {
  /** The job's id in this page, known at once (`local_...`); an `accepted` event gives the server's. */
  readonly id: string;
  /** Settles with the transcript, or rejects with an ApiError (kind `cancelled` after cancel()). */
  readonly result: Promise<Transcription>;
  cancel(): void;
}

export interface Transport {
  submit(file: File, options: TranscribeOptions, onEvent: (event: JobEvent) => void): Job;
}

type FormField = keyof TranscriptionForm;

/** The multipart body: verbose_json with word and segment times, and every chosen option. */
export function buildForm(file: File, options: TranscribeOptions): FormData {
  const form = new FormData();
  const put = (name: FormField, value: string | number | boolean | null | undefined): void => {
    if (value === null || value === undefined || value === '') return;
    form.append(name, String(value));
  };
  form.append('file' satisfies FormField, file, file.name);
  put('response_format', 'verbose_json' satisfies TranscriptionForm['response_format']);
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

/** The transport over the synchronous endpoint. `xhr` is injectable for tests. */
export function createSyncTransport(xhr: () => XMLHttpRequest = () => new XMLHttpRequest()): Transport {
  return {
    submit(file, options, onEvent) {
      const request = xhr();
      let cancelled = false;
      const result = new Promise<Transcription>((resolve, reject) => {
        request.open('POST', `${apiBase()}/v1/audio/transcriptions`);
        for (const [name, value] of Object.entries(authHeaders())) request.setRequestHeader(name, value);
        request.setRequestHeader('Accept', 'application/json');
        let uploaded = false;
        const transcribing = (): void => {
          if (uploaded) return;
          uploaded = true;
          onEvent({ type: 'progress', progress: { stage: 'transcribing', fraction: null } });
        };
        request.upload.onprogress = (event: ProgressEvent) => {
          const total = event.lengthComputable ? event.total : file.size;
          onEvent({
            type: 'progress',
            progress: { stage: 'uploading', fraction: total ? Math.min(1, event.loaded / total) : null, loaded: event.loaded, total },
          });
        };
        request.upload.onload = transcribing;
        request.onload = () => {
          if (request.status >= 200 && request.status < 300) {
            try {
              const body = JSON.parse(request.responseText) as Transcription;
              onEvent({ type: 'progress', progress: { stage: 'done', fraction: 1 } });
              resolve(body);
            } catch {
              reject(new ApiError(request.status, 'The server sent a transcript this app cannot read.', { kind: 'server' }));
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
            uploaded
              ? networkError('The connection closed while the server was transcribing. Check the server and try again.')
              : networkError(
                  'The connection closed during the upload. The server may be down, or the file may be larger than it accepts.',
                ),
          );
        };
        request.onabort = () => reject(cancelledError());
        onEvent({ type: 'progress', progress: { stage: 'uploading', fraction: 0, loaded: 0, total: file.size } });
        request.send(buildForm(file, options));
      });
      return {
        id: localId(),
        result,
        cancel() {
          if (cancelled) return;
          cancelled = true;
          request.abort();
        },
      };
    },
  };
}

/** The transport the app uses. */
export const transport: Transport = createSyncTransport();
