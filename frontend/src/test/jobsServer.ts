/**
 * A scriptable jobs API for unit tests: stands in for `fetch` (the typed client's calls and the
 * event stream) and for XMLHttpRequest (the upload). Each `/events` request takes the next stream
 * the test queued; a stream is written to (and broken) by the test.
 */
import { vi } from 'vitest';
import type { ServerJob } from '../api/jobs';

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

export function serverJob(patch: Partial<ServerJob> = {}): ServerJob {
  return {
    id: 'job_abc',
    object: 'audio.job',
    status: 'queued',
    task: 'transcribe',
    model: 'whisper-base',
    response_format: 'verbose_json',
    created_at: 1_700_000_000,
    progress: { stage: 'queued', fraction: 0 },
    attempts: 0,
    ...patch,
  };
}

/** One `/events` response the test writes to. */
export class EventStream {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private readonly encoder = new TextEncoder();
  readonly body: ReadableStream<Uint8Array>;
  /** The request's headers, once a request took this stream. */
  headers: Headers | null = null;
  aborted = false;

  constructor() {
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
    });
  }

  /** Raw text, as the server would write it. */
  write(text: string): void {
    this.controller.enqueue(this.encoder.encode(text));
  }

  event(id: number, data: unknown): void {
    this.write(`id: ${id}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(): void {
    this.controller.close();
  }

  /** The connection drops. */
  fail(): void {
    this.controller.error(new TypeError('network error'));
  }

  abort(): void {
    this.aborted = true;
    try {
      this.controller.error(new DOMException('aborted', 'AbortError'));
    } catch {
      // already closed
    }
  }
}

type Route = (request: { method: string; path: string; url: URL; headers: Headers }) => Response | Promise<Response> | undefined;

/** `fetch` for the tests: event streams from a queue, other calls from `routes`. */
export function stubFetch(routes: Route = () => undefined) {
  const streams: (EventStream | Response)[] = [];
  const calls: { method: string; path: string; url: URL; headers: Headers }[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : null;
    const url = new URL(request ? request.url : String(input), 'http://localhost');
    const method = (request?.method ?? init?.method ?? 'GET').toUpperCase();
    const headers = new Headers(request ? request.headers : init?.headers);
    const call = { method, path: url.pathname, url, headers };
    calls.push(call);
    if (url.pathname.endsWith('/events')) {
      const next = streams.shift();
      if (!next) throw new TypeError('no stream queued');
      if (next instanceof Response) return next;
      next.headers = headers;
      const signal = init?.signal ?? request?.signal;
      if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
      signal?.addEventListener('abort', () => next.abort());
      return new Response(next.body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
    }
    const answer = await routes(call);
    if (answer) return answer;
    return json(404, { error: { message: `No route for ${method} ${url.pathname}`, type: 'invalid_request_error', param: null, code: 'not_found' } });
  });
  vi.stubGlobal('fetch', fetch);
  return {
    fetch,
    calls,
    /** Queue the next `/events` answer: a stream the test writes to, or a plain response. */
    stream(answer: EventStream | Response = new EventStream()): EventStream | Response {
      streams.push(answer);
      return answer;
    },
  };
}

/** A scriptable stand-in for XMLHttpRequest. */
export class FakeXhr {
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  responseText = '';
  responseHeaders: Record<string, string> = {};
  aborted = false;
  upload: { onprogress: ((e: ProgressEvent) => void) | null; onload: (() => void) | null } = { onprogress: null, onload: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getResponseHeader(name: string) {
    return this.responseHeaders[name.toLowerCase()] ?? null;
  }
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  // test helpers
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true } as ProgressEvent);
  }
  respond(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.upload.onload?.();
    this.status = status;
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body);
    this.responseHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    this.onload?.();
  }
}
