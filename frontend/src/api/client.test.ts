import { beforeEach, describe, expect, it, vi } from 'vitest';
import { keyStore } from '../auth/keyStore';
import { fetchWithRetry, listModels } from './client';
import { ApiError } from './errors';

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

describe('the typed client', () => {
  beforeEach(() => {
    localStorage.clear();
    keyStore.reset();
  });

  it('sends the saved key as a bearer token', async () => {
    keyStore.setKey('sk-test-123');
    const fetch = vi.fn(async (_: Request) => json(200, { object: 'list', data: [{ id: 'whisper-base', object: 'model', created: 1, owned_by: 'scribe' }] }));
    vi.stubGlobal('fetch', fetch);
    const models = await listModels();
    expect(models.map((m) => m.id)).toEqual(['whisper-base']);
    const request = fetch.mock.calls[0]![0];
    expect(request.headers.get('Authorization')).toBe('Bearer sk-test-123');
    expect(new URL(request.url).pathname).toBe('/v1/models');
    expect(localStorage.getItem('scribe.apiKey')).toBe('sk-test-123');
  });

  it('sends no Authorization header without a key', async () => {
    const fetch = vi.fn(async (_: Request) => json(200, { object: 'list', data: [] }));
    vi.stubGlobal('fetch', fetch);
    await listModels();
    expect(fetch.mock.calls[0]![0].headers.has('Authorization')).toBe(false);
  });

  it('opens the key lock with the server message on 401', async () => {
    keyStore.setKey('sk-wrong');
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(401, { error: { message: 'Incorrect API key provided: sk-wr***.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })),
    );
    const failure = await listModels().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).kind).toBe('unauthorized');
    expect(keyStore.getState().prompt).toBe('Incorrect API key provided: sk-wr***.');
  });

  it('reports an unreachable server as a network error', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const failure = (await listModels().catch((e: unknown) => e)) as ApiError;
    expect(failure.kind).toBe('network');
  });
  it('retries a read once after a short Retry-After (429 or 503), not a write nor a long wait', async () => {
    const limited = () => json(429, { error: { message: 'Too many concurrent requests.', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } }, { 'Retry-After': '1' });
    const fetch = vi.fn(async (_: Request) => json(200, { ok: true }));
    fetch.mockImplementationOnce(async () => limited());
    vi.stubGlobal('fetch', fetch);
    const waits: number[] = [];
    const pause = async (s: number) => {
      waits.push(s);
    };
    const answer = await fetchWithRetry(new Request('http://localhost/v1/models'), pause);
    expect(answer.status).toBe(200);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(waits).toEqual([1]);

    fetch.mockClear();
    fetch.mockImplementationOnce(async () => limited());
    expect((await fetchWithRetry(new Request('http://localhost/v1/audio/jobs/job_a/cancel', { method: 'POST' }), pause)).status).toBe(429);
    expect(fetch).toHaveBeenCalledTimes(1);

    fetch.mockClear();
    fetch.mockImplementationOnce(async () => json(503, { error: { message: 'Busy.', type: 'service_unavailable', param: null, code: null } }, { 'Retry-After': '30' }));
    expect((await fetchWithRetry(new Request('http://localhost/v1/audio/jobs'), pause)).status).toBe(503);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});
