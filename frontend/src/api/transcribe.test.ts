import { beforeEach, describe, expect, it, vi } from 'vitest';
import { keyStore } from '../auth/keyStore';
import { twoSpeakers } from '../test/fixtures';
import { EventStream, FakeXhr, json, serverJob, stubFetch } from '../test/jobsServer';
import type { ApiError } from './errors';
import { buildForm, createJobsTransport, DEFAULT_OPTIONS, type JobEvent } from './transcribe';

const noWait = () => Promise.resolve();

function setup(routes?: Parameters<typeof stubFetch>[0]) {
  const xhr = new FakeXhr();
  const server = stubFetch(routes);
  const transport = createJobsTransport({ xhr: () => xhr as unknown as XMLHttpRequest, stream: { sleep: noWait } });
  const events: JobEvent[] = [];
  const file = new File([new Uint8Array(1000)], 'call.wav', { type: 'audio/wav' });
  return { xhr, server, transport, events, file };
}

const stagesOf = (events: JobEvent[]) => events.flatMap((e) => (e.type === 'progress' ? [[e.progress.stage, e.progress.fraction]] : []));
const failure = (promise: Promise<unknown>) => promise.then(() => null, (e: unknown) => e as ApiError);
const segment = (start: number, text: string, speaker = 'A') => ({ type: 'transcript.text.segment', job_id: 'job_abc', id: `seg_${start}`, start, end: start + 1, text, speaker });

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

describe('the jobs transport', () => {
  beforeEach(() => {
    localStorage.clear();
    keyStore.reset();
  });

  it('uploads with progress, follows the job events, resolves with the final event\'s result', async () => {
    keyStore.setKey('sk-abc');
    const { xhr, server, transport, events, file } = setup();
    const stream = server.stream() as EventStream;
    const job = transport.submit(file, DEFAULT_OPTIONS, (e) => events.push(e));
    expect(job.id).toMatch(/^local_/);
    expect(xhr.method).toBe('POST');
    expect(new URL(xhr.url).pathname).toBe('/v1/audio/jobs');
    expect(xhr.headers.Authorization).toBe('Bearer sk-abc');
    expect(xhr.body?.get('response_format')).toBe('verbose_json');
    xhr.progress(500, 1000);
    xhr.respond(202, serverJob());
    await vi.waitFor(() => expect(stream.headers).not.toBeNull());
    expect(server.calls.at(-1)?.path).toBe('/v1/audio/jobs/job_abc/events');
    expect(stream.headers?.get('Authorization')).toBe('Bearer sk-abc');
    expect(stream.headers?.get('Last-Event-ID')).toBeNull();
    stream.write(': keep-alive\n\n');
    stream.event(1, { type: 'job.in_progress', job_id: 'job_abc', attempt: 1 });
    stream.event(2, { type: 'job.progress', job_id: 'job_abc', stage: 'transcribing', fraction: 0.25 });
    stream.event(3, segment(0, 'Hello Diane, welcome to Boston.'));
    stream.event(4, { type: 'job.completed', job_id: 'job_abc', job: serverJob({ status: 'completed' }), result: twoSpeakers() });
    const result = await job.result;
    expect(result.segments).toHaveLength(2);
    expect(events.find((e) => e.type === 'accepted')).toEqual({ type: 'accepted', jobId: 'job_abc', createdAt: 1_700_000_000_000 });
    expect(stagesOf(events)).toEqual([
      ['uploading', 0],
      ['uploading', 0.5],
      ['queued', null],
      ['decoding', 0],
      ['transcribing', 0.25],
      ['done', 1],
    ]);
    expect(events.filter((e) => e.type === 'segment')).toEqual([
      { type: 'segment', segment: { start: 0, end: 1, text: 'Hello Diane, welcome to Boston.', speaker: 'A' } },
    ]);
  });

  it('resumes a dropped stream with Last-Event-ID: nothing lost, nothing twice', async () => {
    const { xhr, server, transport, events, file } = setup();
    const first = server.stream() as EventStream;
    const second = server.stream() as EventStream;
    const third = server.stream() as EventStream;
    const job = transport.submit(file, DEFAULT_OPTIONS, (e) => events.push(e));
    xhr.respond(202, serverJob());
    await vi.waitFor(() => expect(first.headers).not.toBeNull());
    first.event(1, { type: 'job.in_progress', job_id: 'job_abc' });
    first.event(2, segment(0, 'one'));
    await vi.waitFor(() => expect(events.some((e) => e.type === 'segment')).toBe(true));
    first.fail(); // the connection drops
    await vi.waitFor(() => expect(second.headers).not.toBeNull());
    expect(second.headers?.get('Last-Event-ID')).toBe('2');
    second.event(3, segment(1, 'two'));
    await vi.waitFor(() => expect(events.filter((e) => e.type === 'segment')).toHaveLength(2));
    second.close(); // the server ends the response without the last event (a restart)
    await vi.waitFor(() => expect(third.headers).not.toBeNull());
    expect(third.headers?.get('Last-Event-ID')).toBe('3');
    third.event(4, segment(2, 'three'));
    third.event(5, { type: 'job.completed', job_id: 'job_abc', job: serverJob({ status: 'completed' }), result: twoSpeakers() });
    await job.result;
    expect(events.flatMap((e) => (e.type === 'segment' ? [e.segment.text] : []))).toEqual(['one', 'two', 'three']);
    expect(events.filter((e) => e.type === 'reconnecting')).toEqual([
      { type: 'reconnecting', attempt: 1 },
      { type: 'reconnecting', attempt: 1 },
    ]);
  });

  it('takes a silent connection for a dropped one and reconnects', async () => {
    const xhr = new FakeXhr();
    const server = stubFetch();
    const transport = createJobsTransport({ xhr: () => xhr as unknown as XMLHttpRequest, stream: { sleep: noWait, stallMs: 50 } });
    const silent = server.stream() as EventStream;
    const next = server.stream() as EventStream;
    const job = transport.submit(new File(['x'], 'a.wav'), DEFAULT_OPTIONS, () => undefined);
    xhr.respond(202, serverJob());
    await vi.waitFor(() => expect(next.headers).not.toBeNull());
    expect(silent.aborted).toBe(true);
    next.event(1, { type: 'job.completed', job_id: 'job_abc', job: serverJob({ status: 'completed' }), result: twoSpeakers() });
    await expect(job.result).resolves.toMatchObject({ duration: 6 });
  });

  it('reconnects after a busy 503 on the stream, and gives up on a 404', async () => {
    const { xhr, server, transport, file } = setup();
    server.stream(json(503, { error: { message: 'Restarting.', type: 'service_unavailable', param: null, code: null } }, { 'Retry-After': '0' }));
    const stream = server.stream() as EventStream;
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(202, serverJob());
    await vi.waitFor(() => expect(stream.headers).not.toBeNull());
    stream.event(1, { type: 'job.completed', job_id: 'job_abc', job: serverJob({ status: 'completed' }), result: twoSpeakers() });
    await expect(job.result).resolves.toMatchObject({ duration: 6 });

    const again = setup();
    again.server.stream(json(404, { error: { message: "No job found with id 'job_abc'.", type: 'invalid_request_error', param: 'job_id', code: 'not_found' } }));
    const lost = again.transport.submit(again.file, DEFAULT_OPTIONS, () => undefined);
    again.xhr.respond(202, serverJob());
    const error = await failure(lost.result);
    expect(error?.kind).toBe('not_found');
    expect(error?.message).toContain('No job found');
  });

  it('gives up when the server stays silent, with a message that the job goes on', async () => {
    let clock = 0;
    const xhr = new FakeXhr();
    stubFetch();
    const transport = createJobsTransport({
      xhr: () => xhr as unknown as XMLHttpRequest,
      stream: {
        giveUpMs: 10_000,
        sleep: async (ms) => {
          clock += ms;
        },
      },
    });
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    const job = transport.submit(new File(['x'], 'a.wav'), DEFAULT_OPTIONS, () => undefined);
    xhr.respond(202, serverJob()); // no stream queued: every connection fails
    const error = await failure(job.result);
    expect(error?.kind).toBe('network');
    expect(error?.message).toMatch(/open it again from Recent/);
    expect(clock).toBeGreaterThanOrEqual(10_000);
  });

  it('fetches the result as verbose_json when the final event carries another format', async () => {
    const { xhr, server, transport, file } = setup(({ path, url }) =>
      path === '/v1/audio/jobs/job_abc/result' && url.searchParams.get('response_format') === 'verbose_json' ? json(200, twoSpeakers()) : undefined,
    );
    const stream = server.stream() as EventStream;
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(202, serverJob());
    await vi.waitFor(() => expect(stream.headers).not.toBeNull());
    stream.event(9, { type: 'job.completed', job_id: 'job_abc', job: serverJob({ status: 'completed' }), result: 'SPEAKER_00: Hello' });
    await expect(job.result).resolves.toMatchObject({ text: twoSpeakers().text });
  });

  it('cancel during the upload aborts it', async () => {
    const { xhr, transport, file } = setup();
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    job.cancel();
    const error = await failure(job.result);
    expect(xhr.aborted).toBe(true);
    expect(error?.kind).toBe('cancelled');
  });

  it('cancel after the upload asks the server and stops following', async () => {
    const { xhr, server, transport, file } = setup(({ method, path }) =>
      method === 'POST' && path === '/v1/audio/jobs/job_abc/cancel' ? json(200, serverJob({ status: 'cancelled' })) : undefined,
    );
    const stream = server.stream() as EventStream;
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(202, serverJob());
    await vi.waitFor(() => expect(stream.headers).not.toBeNull());
    stream.event(1, { type: 'job.in_progress', job_id: 'job_abc' });
    job.cancel();
    const error = await failure(job.result);
    expect(error?.kind).toBe('cancelled');
    expect(server.calls.some((c) => c.method === 'POST' && c.path === '/v1/audio/jobs/job_abc/cancel')).toBe(true);
    expect(stream.aborted).toBe(true);
  });

  it('a job that ended before the cancel arrived still brings its result', async () => {
    const { xhr, server, transport, file } = setup(({ method, path }) =>
      method === 'POST' && path.endsWith('/cancel')
        ? json(409, { error: { message: 'Job job_abc has already completed; it cannot be cancelled.', type: 'invalid_request_error', param: 'job_id', code: 'job_finished' } })
        : undefined,
    );
    const stream = server.stream() as EventStream;
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(202, serverJob());
    await vi.waitFor(() => expect(stream.headers).not.toBeNull());
    job.cancel();
    await vi.waitFor(() => expect(server.calls.some((c) => c.path.endsWith('/cancel'))).toBe(true));
    stream.event(5, { type: 'job.completed', job_id: 'job_abc', job: serverJob({ status: 'completed' }), result: twoSpeakers() });
    await expect(job.result).resolves.toMatchObject({ duration: 6 });
  });

  it('a cancelled event ends the job as cancelled', async () => {
    const { xhr, server, transport, file } = setup();
    const stream = server.stream() as EventStream;
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(202, serverJob());
    await vi.waitFor(() => expect(stream.headers).not.toBeNull());
    stream.event(3, { type: 'job.cancelled', job_id: 'job_abc', job: serverJob({ status: 'cancelled' }) });
    expect((await failure(job.result))?.kind).toBe('cancelled');
  });

  it('a failed job rejects with its error, mapped as the same request error would be', async () => {
    const { xhr, server, transport, file } = setup();
    const stream = server.stream() as EventStream;
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(202, serverJob());
    await vi.waitFor(() => expect(stream.headers).not.toBeNull());
    const error = { message: 'The upload is not audio this server can decode.', type: 'invalid_request_error', param: 'file', code: 'invalid_audio' };
    stream.event(2, { type: 'job.failed', job_id: 'job_abc', job: serverJob({ status: 'failed', error }), error });
    const failed = await failure(job.result);
    expect(failed?.kind).toBe('not_audio');
    expect(failed?.status).toBe(400);
    expect(failed?.message).toBe(error.message);
  });

  it.each([
    [503, 'queue_full', 'service_unavailable', { 'Retry-After': '12' }, 'busy', 12],
    [429, 'rate_limit_exceeded', 'rate_limit_error', { 'Retry-After': '7' }, 'rate_limited', 7],
    [413, 'file_too_large', 'invalid_request_error', {}, 'too_large', null],
    [400, 'invalid_audio', 'invalid_request_error', {}, 'not_audio', null],
  ])('maps an upload answered %i (%s)', async (status, code, type, headers, kind, retryAfter) => {
    const { xhr, server, transport, file } = setup();
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(status, { error: { message: `The server says ${code}.`, type, param: code === 'invalid_audio' ? 'file' : null, code } }, headers);
    const error = await failure(job.result);
    expect(error?.kind).toBe(kind);
    expect(error?.retryAfter).toBe(retryAfter);
    expect(error?.message).toBe(`The server says ${code}.`);
    expect(server.calls).toEqual([]); // nothing followed
  });

  it('a 401 on the upload or on the stream opens the key lock', async () => {
    const { xhr, transport, file } = setup();
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.respond(401, { error: { message: 'Invalid API key.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    expect((await failure(job.result))?.kind).toBe('unauthorized');
    expect(keyStore.getState().prompt).toBe('Invalid API key.');

    keyStore.reset();
    const again = setup();
    again.server.stream(json(401, { error: { message: 'Key revoked.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }));
    const followed = again.transport.follow('job_abc', () => undefined);
    expect((await failure(followed.result))?.kind).toBe('unauthorized');
    expect(keyStore.getState().prompt).toBe('Key revoked.');
  });

  it('explains a connection closed during the upload', async () => {
    const { xhr, transport, file } = setup();
    const job = transport.submit(file, DEFAULT_OPTIONS, () => undefined);
    xhr.onerror?.();
    const error = await failure(job.result);
    expect(error?.kind).toBe('network');
    expect(error?.message).toMatch(/larger than it accepts/);
  });

  describe('follow (a job the page lost)', () => {
    it('replays a running job from its first event, then follows it', async () => {
      const { server, transport } = setup();
      const stream = server.stream() as EventStream;
      const events: JobEvent[] = [];
      const job = transport.follow('job_abc', (e) => events.push(e));
      expect(job.id).toBe('job_abc');
      await vi.waitFor(() => expect(stream.headers).not.toBeNull());
      expect(server.calls.map((c) => c.path)).toEqual(['/v1/audio/jobs/job_abc/events']); // no GET first
      expect(stream.headers?.get('Last-Event-ID')).toBeNull();
      stream.event(1, { type: 'job.in_progress', job_id: 'job_abc' });
      stream.event(2, { type: 'job.progress', job_id: 'job_abc', stage: 'transcribing', fraction: 0.4 });
      stream.event(3, segment(0, 'earlier'));
      stream.event(4, { type: 'job.completed', job_id: 'job_abc', job: serverJob({ status: 'completed' }), result: twoSpeakers() });
      await job.result;
      expect(stagesOf(events)).toEqual([
        ['decoding', 0],
        ['transcribing', 0.4],
        ['done', 1],
      ]);
      expect(events.some((e) => e.type === 'segment' && e.segment.text === 'earlier')).toBe(true);
    });

    it('gets the result of a job that finished meanwhile (the stream ends at once)', async () => {
      const { server, transport } = setup(({ path }) => (path === '/v1/audio/jobs/job_abc/result' ? json(200, twoSpeakers()) : undefined));
      const stream = server.stream() as EventStream;
      const job = transport.follow('job_abc', () => undefined);
      await vi.waitFor(() => expect(stream.headers).not.toBeNull());
      // A job submitted as text (the CLI's) ends with a text result: fetched as verbose_json.
      stream.event(1_999_999, { type: 'job.completed', job_id: 'job_abc', job: serverJob({ status: 'completed' }), result: 'Hello.' });
      await expect(job.result).resolves.toMatchObject({ duration: 6 });
    });

    it('rejects with the error of a job that failed meanwhile', async () => {
      const error = { message: 'Audio longer than 4 hours.', type: 'invalid_request_error', param: 'file', code: 'audio_too_long' };
      const { server, transport } = setup();
      const stream = server.stream() as EventStream;
      const job = transport.follow('job_abc', () => undefined);
      await vi.waitFor(() => expect(stream.headers).not.toBeNull());
      stream.event(1_999_999, { type: 'job.failed', job_id: 'job_abc', job: serverJob({ status: 'failed', error }), error });
      const failed = await failure(job.result);
      expect(failed?.kind).toBe('not_audio');
      expect(failed?.message).toBe(error.message);
    });

    it('waits out the concurrency limit of the key (429) instead of failing', async () => {
      const { server, transport } = setup();
      server.stream(json(429, { error: { message: 'Too many concurrent requests.', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } }, { 'Retry-After': '1' }));
      const stream = server.stream() as EventStream;
      const events: JobEvent[] = [];
      const job = transport.follow('job_abc', (e) => events.push(e));
      await vi.waitFor(() => expect(stream.headers).not.toBeNull());
      stream.event(1, { type: 'job.completed', job_id: 'job_abc', job: serverJob({ status: 'completed' }), result: twoSpeakers() });
      await expect(job.result).resolves.toMatchObject({ duration: 6 });
      expect(events).toContainEqual({ type: 'reconnecting', attempt: 1 });
    });

    it('cancels through the server', async () => {
      const { server, transport } = setup(({ method, path }) =>
        method === 'POST' && path === '/v1/audio/jobs/job_abc/cancel' ? json(200, serverJob({ status: 'cancelled' })) : undefined,
      );
      const stream = server.stream() as EventStream;
      const job = transport.follow('job_abc', () => undefined);
      await vi.waitFor(() => expect(stream.headers).not.toBeNull());
      job.cancel();
      expect((await failure(job.result))?.kind).toBe('cancelled');
      expect(stream.aborted).toBe(true);
    });
  });
});
