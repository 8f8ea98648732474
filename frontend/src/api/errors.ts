import type { components } from './schema';

/** The error object every API error carries: `{"error": {"message", "type", "param", "code"}}`. */
export type ErrorBody = components['schemas']['ErrorBody'];

export type ErrorKind =
  | 'unauthorized'
  | 'not_audio'
  | 'too_large'
  | 'rate_limited'
  | 'busy'
  | 'invalid'
  | 'not_found'
  | 'network'
  | 'server'
  | 'cancelled';

/** An API failure, with what a person needs to read: a short title and the server's own words. */
export class ApiError extends Error {
  readonly status: number;
  readonly kind: ErrorKind;
  readonly type: string | null;
  readonly code: string | null;
  readonly param: string | null;
  /** Seconds to wait before trying again (`Retry-After`), when the server said. */
  readonly retryAfter: number | null;
  /** When trying again makes sense (ms since the epoch), from `retryAfter`. */
  readonly retryAt: number | null;

  constructor(
    status: number,
    message: string,
    init: { type?: string | null; code?: string | null; param?: string | null; retryAfter?: number | null; kind?: ErrorKind } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = init.type ?? null;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.retryAfter = init.retryAfter ?? null;
    this.retryAt = this.retryAfter === null ? null : Date.now() + this.retryAfter * 1000;
    this.kind = init.kind ?? kindOf(status, this.code, this.param);
  }

  /** A short heading for the error, in plain words. */
  get title(): string {
    return TITLES[this.kind];
  }

  /** Whether trying the same request again later may work. */
  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'busy' || this.kind === 'network' || this.kind === 'server';
  }
}

const TITLES: Record<ErrorKind, string> = {
  unauthorized: 'Your API key was not accepted',
  not_audio: 'This file is not audio Scribe can read',
  too_large: 'The file is too large for this server',
  rate_limited: 'Too many requests',
  busy: 'The server is busy',
  invalid: 'The request was not accepted',
  not_found: 'Not found',
  network: 'Could not reach the server',
  server: 'The server failed',
  cancelled: 'Cancelled',
};

const AUDIO_CODES = new Set(['invalid_audio', 'empty_file', 'unsupported_audio', 'audio_too_long', 'no_audio_stream']);

function kindOf(status: number, code: string | null, param: string | null): ErrorKind {
  if (status === 0) return 'network';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 413) return 'too_large';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 502 || status === 504) return 'busy';
  if (status === 404) return 'not_found';
  if (status === 499) return 'cancelled';
  if (status === 400 && (param === 'file' || (code !== null && AUDIO_CODES.has(code)))) return 'not_audio';
  if (status >= 400 && status < 500) return 'invalid';
  return 'server';
}

/** `Retry-After` in seconds: a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function isErrorBody(value: unknown): value is { error: ErrorBody } {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

const FALLBACK: Record<number, string> = {
  401: 'This server needs an API key.',
  413: 'The file is larger than this server accepts.',
  429: 'This key has sent too many requests.',
  502: 'The server could not be reached through its proxy.',
  503: 'The server cannot take this request now.',
  504: 'The server took too long to answer.',
};

/** Build an ApiError from a status, a body (text, parsed or not) and a header lookup. */
export function apiError(status: number, body: unknown, header: (name: string) => string | null): ApiError {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = body;
    }
  }
  const retryAfter = parseRetryAfter(header('Retry-After'));
  if (isErrorBody(parsed)) {
    const { message, type, code, param } = parsed.error;
    return new ApiError(status, message, { type, code, param, retryAfter });
  }
  const text = typeof parsed === 'string' && parsed.trim() && parsed.length < 300 ? parsed.trim() : null;
  return new ApiError(status, text ?? FALLBACK[status] ?? `The server answered HTTP ${status}.`, { retryAfter });
}

/** Build an ApiError from a fetch Response (reads its body). */
export async function apiErrorFromResponse(response: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    text = '';
  }
  return apiError(response.status, text, (name) => response.headers.get(name));
}

export function networkError(detail?: string): ApiError {
  return new ApiError(0, detail ?? 'Check that the server is running and that this device is online.', { kind: 'network' });
}

export function cancelledError(): ApiError {
  return new ApiError(499, 'The transcription was cancelled.', { kind: 'cancelled' });
}

/** Any thrown value as an ApiError (unexpected ones as a 'server' error with their message). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DOMException && error.name === 'AbortError') return cancelledError();
  if (error instanceof TypeError) return networkError();
  return new ApiError(500, error instanceof Error ? error.message : String(error), { kind: 'server' });
}
