import { describe, expect, it } from 'vitest';
import { ApiError, apiError, parseRetryAfter, toApiError } from './errors';

const none = () => null;
const body = (message: string, extra: Record<string, unknown> = {}) => JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null, ...extra } });

describe('apiError', () => {
  it('reads the OpenAI error shape and says a file is not audio', () => {
    const error = apiError(400, body('Could not decode the upload: not an audio file.', { param: 'file', code: 'invalid_audio' }), none);
    expect(error.kind).toBe('not_audio');
    expect(error.title).toMatch(/not audio/i);
    expect(error.message).toBe('Could not decode the upload: not an audio file.');
    expect(error.param).toBe('file');
  });

  it('maps 413 to too large, even without a JSON body', () => {
    const error = apiError(413, '', none);
    expect(error.kind).toBe('too_large');
    expect(error.message).toMatch(/larger than this server accepts/);
  });

  it('keeps Retry-After on 429 and 503', () => {
    const limited = apiError(429, body('Rate limit reached for requests.'), (h) => (h === 'Retry-After' ? '12' : null));
    expect(limited.kind).toBe('rate_limited');
    expect(limited.retryAfter).toBe(12);
    expect(limited.retryable).toBe(true);
    const busy = apiError(503, body('The queue is full.'), (h) => (h === 'Retry-After' ? '3' : null));
    expect(busy.kind).toBe('busy');
    expect(busy.title).toMatch(/busy/);
    expect(busy.retryAfter).toBe(3);
  });

  it('maps 401 to unauthorized with the server message', () => {
    const error = apiError(401, body('Incorrect API key provided.', { code: 'invalid_api_key' }), none);
    expect(error.kind).toBe('unauthorized');
    expect(error.code).toBe('invalid_api_key');
    expect(error.message).toBe('Incorrect API key provided.');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('5')).toBe(5);
    expect(parseRetryAfter(null)).toBeNull();
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('soon')).toBeNull();
  });

  it('turns thrown values into ApiErrors', () => {
    expect(toApiError(new TypeError('Failed to fetch')).kind).toBe('network');
    expect(toApiError(new DOMException('aborted', 'AbortError')).kind).toBe('cancelled');
    const same = new ApiError(400, 'x');
    expect(toApiError(same)).toBe(same);
  });
});
