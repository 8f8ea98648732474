/**
 * A job's event stream (`GET /v1/audio/jobs/{id}/events`), read with fetch so the bearer key can
 * be sent, and followed to its end across dropped connections: each reconnect sends
 * `Last-Event-ID`, so the server resumes after the last event this page saw, nothing lost and
 * nothing repeated. A connection with no bytes for `stallMs` (the server sends a keep-alive every
 * 10 s) counts as dropped too.
 */
import { authHeaders } from '../auth/keyStore';
import { apiBase, reportUnauthorized } from './client';
import { type ErrorBody, apiErrorFromResponse, networkError } from './errors';
import type { ServerJob } from './jobs';
import { SseParser } from './sse';

export interface SegmentEvent {
  type: 'transcript.text.segment';
  start: number;
  end: number;
  text: string;
  speaker?: string | null;
}

/** What the stream says, as `data:` JSON. */
export type StreamEvent =
  | { type: 'job.in_progress'; attempt?: number | null }
  | { type: 'job.progress'; stage: string; fraction: number }
  | SegmentEvent
  | { type: 'job.completed'; job: ServerJob; result?: unknown }
  | { type: 'job.failed'; job: ServerJob; error?: ErrorBody | null }
  | { type: 'job.cancelled'; job: ServerJob }
  /** The stream could not go on (the job was deleted meanwhile). */
  | { type: 'error'; error: ErrorBody };

export type TerminalEvent = Extract<StreamEvent, { type: 'job.completed' | 'job.failed' | 'job.cancelled' | 'error' }>;

const TERMINAL_TYPES = new Set(['job.completed', 'job.failed', 'job.cancelled', 'error']);

function isTerminal(event: StreamEvent): event is TerminalEvent {
  return TERMINAL_TYPES.has(event.type);
}

export interface FollowOptions {
  /** Resume after this event (the `id` of the last one seen), or from the start. */
  lastEventId?: string | null;
  signal?: AbortSignal;
  /** Every event but the last, with its id. */
  onEvent?: (event: StreamEvent, id: string | null) => void;
  /** Called before each reconnect (1, 2, ...), so the UI can say it is reconnecting. */
  onReconnect?: (attempt: number) => void;
  /** Give up after this long without a byte from the server (ms). */
  giveUpMs?: number;
  /** A connection quiet this long is taken as dropped (ms). */
  stallMs?: number;
  /** Injectable for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

const GIVE_UP_MS = 120_000;
const STALL_MS = 35_000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
/**
 * Statuses worth reconnecting after: a proxy or a restarting server, and the key's limit on
 * concurrent requests (an open stream holds one of its slots; a reloaded page's old stream holds
 * one until the server notices it is gone).
 */
const TRANSIENT = new Set([429, 502, 503, 504]);

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** Why one connection ended without the job's last event. */
type Dropped = { dropped: true; retryAfterMs?: number };

/**
 * Follow the job's events until its terminal event (`job.completed` with the result,
 * `job.failed`, `job.cancelled`, or a stream `error`), which it resolves with. Rejects with an
 * ApiError when the server refuses the stream (401 also opens the key lock; 404) or cannot be
 * reached for `giveUpMs` (429, 502, 503 and 504 are waited out, honouring `Retry-After`), and
 * with an AbortError when `signal` aborts.
 */
export async function followJobEvents(jobId: string, options: FollowOptions = {}): Promise<TerminalEvent> {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const wait = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const giveUpMs = options.giveUpMs ?? GIVE_UP_MS;
  const stallMs = options.stallMs ?? STALL_MS;
  const url = `${apiBase()}/v1/audio/jobs/${encodeURIComponent(jobId)}/events`;
  const parser = new SseParser(options.lastEventId ?? null);
  let lastHeard = now();
  let failures = 0;

  const connect = async (): Promise<TerminalEvent | Dropped> => {
    const attempt = new AbortController();
    const outer = options.signal;
    const forward = (): void => attempt.abort();
    outer?.addEventListener('abort', forward, { once: true });
    let stall: ReturnType<typeof setTimeout> | undefined;
    const watch = (): void => {
      clearTimeout(stall);
      stall = setTimeout(() => attempt.abort(), stallMs);
    };
    try {
      const headers: Record<string, string> = { ...authHeaders(), Accept: 'text/event-stream' };
      if (parser.lastEventId) headers['Last-Event-ID'] = parser.lastEventId;
      watch();
      let response: Response;
      try {
        response = await doFetch(url, { headers, signal: attempt.signal, cache: 'no-store' });
      } catch {
        if (outer?.aborted) throw abortError();
        return { dropped: true };
      }
      if (!response.ok) {
        const error = await apiErrorFromResponse(response);
        if (TRANSIENT.has(response.status)) return { dropped: true, retryAfterMs: (error.retryAfter ?? 0) * 1000 };
        reportUnauthorized(error);
        throw error;
      }
      if (!response.body) return { dropped: true };
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch {
            if (outer?.aborted) throw abortError();
            return { dropped: true };
          }
          if (chunk.done) return { dropped: true };
          watch();
          lastHeard = now();
          failures = 0;
          for (const message of parser.push(decoder.decode(chunk.value, { stream: true }))) {
            let event: StreamEvent;
            try {
              event = JSON.parse(message.data) as StreamEvent;
            } catch {
              continue; // not JSON: not an event this app knows
            }
            if (isTerminal(event)) return event;
            options.onEvent?.(event, message.id);
          }
        }
      } finally {
        reader.cancel().catch(() => undefined);
      }
    } finally {
      clearTimeout(stall);
      outer?.removeEventListener('abort', forward);
    }
  };

  for (;;) {
    const outcome = await connect();
    if (!('dropped' in outcome)) return outcome;
    if (now() - lastHeard >= giveUpMs) {
      throw networkError('Lost the connection to the server while following the job. The job goes on there: open it again from Recent.');
    }
    const backoff = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]!;
    failures += 1;
    await wait(Math.max(backoff, outcome.retryAfterMs ?? 0), options.signal);
    options.onReconnect?.(failures);
  }
}
