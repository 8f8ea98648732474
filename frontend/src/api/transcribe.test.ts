import { beforeEach, describe, expect, it } from 'vitest';
import { keyStore } from '../auth/keyStore';
import { twoSpeakers } from '../test/fixtures';
import type { ApiError } from './errors';
import { buildForm, createSyncTransport, DEFAULT_OPTIONS, type JobEvent } from './transcribe';

/** A scriptable stand-in for XMLHttpRequest. */
class FakeXhr {
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

function setup() {
  const xhr = new FakeXhr();
  const transport = createSyncTransport(() => xhr as unknown as XMLHttpRequest);
  const events: JobEvent[] = [];
  const file = new File([new Uint8Array(1000)], 'call.wav', { type: 'audio/wav' });
  return { xhr, transport, events, file };
}

describe('buildForm', () => {
  it('asks for verbose_json with word and segment times and sends every option', () => {
    const file = new File(['x'], 'call.wav', { type: 'audio/wav' });
    const form = buildForm(file, {
      ...DEFAULT_OPTIONS,
      model: 'whisper-base',
      language: 'en',
      minSpeakers: 2,
      maxSpeakers: 4,
      detectEntities: true,
      detectSentiment: true,
      textRules: ['clean', 'house'],
      knownSpeakers: [{ name: 'Diane', reference: 'data:audio/wav;base64,AAAA' }],
    });
    expect(form.get('response_format')).toBe('verbose_json');
    expect(form.getAll('timestamp_granularities[]')).toEqual(['word', 'segment']);
    expect(form.get('model')).toBe('whisper-base');
    expect(form.get('language')).toBe('en');
    expect(form.get('min_speakers')).toBe('2');
    expect(form.get('max_speakers')).toBe('4');
    expect(form.get('num_speakers')).toBeNull();
    expect(form.get('detect_paragraphs')).toBe('true');
    expect(form.get('detect_entities')).toBe('true');
    expect(form.getAll('text_rules[]')).toEqual(['clean', 'house']);
    expect(form.getAll('known_speaker_names[]')).toEqual(['Diane']);
    expect(form.getAll('known_speaker_references[]')).toEqual(['data:audio/wav;base64,AAAA']);
    expect((form.get('file') as File).name).toBe('call.wav');
  });

  it('sends an exact count instead of bounds, and no speaker fields without diarization', () => {
    const file = new File(['x'], 'a.wav');
    const exact = buildForm(file, { ...DEFAULT_OPTIONS, numSpeakers: 2, minSpeakers: 1, maxSpeakers: 3 });
    expect(exact.get('num_speakers')).toBe('2');
    expect(exact.get('min_speakers')).toBeNull();
    const off = buildForm(file, { ...DEFAULT_OPTIONS, diarize: false, numSpeakers: 2 });
    expect(off.get('diarize')).toBe('false');
    expect(off.get('num_speakers')).toBeNull();
  });
});

describe('the synchronous transport', () => {
  beforeEach(() => {
    localStorage.clear();
    keyStore.reset();
  });

  it('reports upload progress, then transcribing, then the result', async () => {
    keyStore.setKey('sk-abc');
    const { xhr, transport, events, file } = setup();
    const job = transport.submit(file, DEFAULT_OPTIONS, (e) => events.push(e));
    expect(job.id).toMatch(/^local_/);
    expect(xhr.method).toBe('POST');
    expect(new URL(xhr.url).pathname).toBe('/v1/audio/transcriptions');
    expect(xhr.headers.Authorization).toBe('Bearer sk-abc');
    xhr.progress(500, 1000);
    xhr.respond(200, twoSpeakers());
    const result = await job.result;
    expect(result.segments).toHaveLength(2);
    const stages = events.flatMap((e) => (e.type === 'progress' ? [[e.progress.stage, e.progress.fraction]] : []));
    expect(stages).toEqual([
      ['uploading', 0],
      ['uploading', 0.5],
      ['transcribing', null],
      ['done', 1],
    ]);
  });

  it('rejects with the server error and opens the key lock on 401', async () => {
    const { xhr, transport, file } = setup();
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(401, { error: { message: 'Invalid API key.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    const error = (await job.result.catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('unauthorized');
    expect(keyStore.getState().prompt).toBe('Invalid API key.');
  });

  it('passes Retry-After on 429', async () => {
    const { xhr, transport, file } = setup();
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(429, { error: { message: 'Slow down.', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } }, { 'Retry-After': '7' });
    const error = (await job.result.catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfter).toBe(7);
  });

  it('cancel aborts the request', async () => {
    const { xhr, transport, file } = setup();
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    job.cancel();
    const error = (await job.result.catch((e: unknown) => e)) as ApiError;
    expect(xhr.aborted).toBe(true);
    expect(error.kind).toBe('cancelled');
  });

  it('explains a connection closed during the upload', async () => {
    const { xhr, transport, file } = setup();
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.onerror?.();
    const error = (await job.result.catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('network');
    expect(error.message).toMatch(/larger than it accepts/);
  });
});
