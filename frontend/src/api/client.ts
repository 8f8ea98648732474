import createClient, { type Middleware } from 'openapi-fetch';
import { authHeaders, keyStore } from '../auth/keyStore';
import { type ApiError, apiError, networkError } from './errors';
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

export const api = createClient<paths>({
  baseUrl: apiBase(),
  // Looked up at call time, so tests (and a later polyfill) can replace fetch.
  fetch: (request: Request) => globalThis.fetch(request),
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
