import createClient, { type Middleware } from 'openapi-fetch';
import { authHeaders, keyStore } from '../auth/keyStore';
import { type ApiError, apiError, networkError, parseRetryAfter } from './errors';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type ModelOut = Schemas['ModelOut'];
export type TextRuleSet = Schemas['TextRuleSetOut'];
/** The transcript the app works with: OpenAI's verbose_json with words, speakers and insights. */
export type Transcription = Schemas['TranscriptionVerboseJson'];
export type Segment = Schemas['SegmentOut'];
export type Word = Schemas['WordOut'];
export type Paragraph = Schemas['ParagraphOut'];
export type Entity = Schemas['EntityOut'];
export type Sentiment = Schemas['SentimentOut'];

/** Where the API lives: the page's own origin (the service serves the app), or VITE_API_BASE. */
export function apiBase(): string {
  const configured = import.meta.env.VITE_API_BASE as string | undefined;
  if (configured) return configured.replace(/\/$/, '');
  return typeof window !== 'undefined' ? window.location.origin : '';
}

/** Every 401 opens the key lock again, with the server's message. */
export function reportUnauthorized(error: ApiError): void {
  if (error.kind === 'unauthorized') keyStore.requireKey(error.message);
}

const auth: Middleware = {
  onRequest({ request }) {
    for (const [name, value] of Object.entries(authHeaders())) request.headers.set(name, value);
    return request;
  },
};

/** The longest `Retry-After` a read is retried after (once), rather than shown as an error. */
export const MAX_READ_RETRY_S = 5;

/**
 * fetch for the typed client: a read (GET) refused for now, 429 or 503 with a short
 * `Retry-After`, is sent once more after that wait. The key's limit on concurrent requests counts
 * open event streams, so a page that loads while following a job can meet it for a second.
 */
export async function fetchWithRetry(request: Request, wait: (seconds: number) => Promise<void> = sleepSeconds): Promise<Response> {
  const spare = request.method === 'GET' ? request.clone() : null;
  const response = await globalThis.fetch(request);
  if (!spare || (response.status !== 429 && response.status !== 503)) return response;
  const seconds = parseRetryAfter(response.headers.get('Retry-After')) ?? 1;
  if (seconds > MAX_READ_RETRY_S) return response;
  await wait(seconds);
  if (spare.signal.aborted) return response;
  return globalThis.fetch(spare);
}

function sleepSeconds(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

export const api = createClient<paths>({
  baseUrl: apiBase(),
  // Looked up at call time, so tests (and a later polyfill) can replace fetch.
  fetch: (request: Request) => fetchWithRetry(request),
});
api.use(auth);

/** Unwrap an openapi-fetch answer: the data, or an ApiError (401s reported to the key lock). */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw networkError();
  }
  const { data, error: body, response } = result;
  if (!response.ok || data === undefined) {
    // openapi-fetch has read the body already (parsed as JSON when it is JSON).
    const error = apiError(response.status, body ?? response.statusText, (name) => response.headers.get(name));
    reportUnauthorized(error);
    throw error;
  }
  return data;
}

export async function listModels(signal?: AbortSignal): Promise<ModelOut[]> {
  const body = await unwrap(api.GET('/v1/models', { signal }));
  return body.data;
}

export async function listTextRules(signal?: AbortSignal): Promise<TextRuleSet[]> {
  const body = await unwrap(api.GET('/v1/audio/text_rules', { signal }));
  return body.data;
}
