import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Transcription } from './api/client';
import { ApiError, cancelledError } from './api/errors';
import type { JobEvent, TranscribeOptions, Transport } from './api/transcribe';
import { App } from './App';
import { keyStore } from './auth/keyStore';
import type { ServerJob } from './api/jobs';
import { createMemoryRepository, type JobRecord } from './jobs/store';
import { twoSpeakers } from './test/fixtures';
import { serverJob } from './test/jobsServer';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function serverWith({ modelsStatus = 200, jobs = [], results = {} }: { modelsStatus?: number; jobs?: ServerJob[]; results?: Record<string, Transcription> } = {}) {
  const fetch = vi.fn(async (request: Request) => {
    const path = new URL(request.url).pathname;
    if (path === '/v1/audio/jobs' && request.method === 'GET') {
      return json(200, { object: 'list', data: jobs, first_id: jobs[0]?.id ?? null, last_id: jobs.at(-1)?.id ?? null, has_more: false });
    }
    const result = /^\/v1\/audio\/jobs\/([^/]+)\/result$/.exec(path);
    if (result && results[result[1]!]) return json(200, results[result[1]!]);
    const job = /^\/v1\/audio\/jobs\/([^/]+)$/.exec(path);
    if (job && request.method === 'DELETE') return json(200, { id: job[1], object: 'audio.job.deleted', deleted: true });
    if (path === '/v1/models') {
      if (modelsStatus === 401) {
        return json(401, { error: { message: 'Incorrect API key provided: sk-ba***.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
      }
      return json(200, {
        object: 'list',
        data: ['whisper-base', 'whisper-1'].map((id) => ({ id, object: 'model', created: 1, owned_by: 'scribe' })),
      });
    }
    if (path === '/v1/audio/text_rules') return json(200, { object: 'list', data: [{ id: 'house-style', object: 'text_rule_set' }] });
    return json(404, { error: { message: 'not found', type: 'invalid_request_error' } });
  });
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

/** A transport the test drives: emit events, then resolve or reject. */
function fakeTransport() {
  let onEvent: (event: JobEvent) => void = () => undefined;
  let settle: { resolve: (t: Transcription) => void; reject: (e: unknown) => void } | null = null;
  const cancel = vi.fn(() => settle?.reject(cancelledError()));
  const start = (id: string, listener: (event: JobEvent) => void) => {
    onEvent = listener;
    const result = new Promise<Transcription>((resolve, reject) => {
      settle = { resolve, reject };
    });
    return { id, result, cancel };
  };
  const submit = vi.fn((_file: File, _options: TranscribeOptions, listener: (event: JobEvent) => void) => start(`local_${submit.mock.calls.length}`, listener));
  const follow = vi.fn((id: string, listener: (event: JobEvent) => void) => start(id, listener));
  const transport: Transport = { submit, follow };
  return {
    transport,
    submit,
    follow,
    cancel,
    emit: (event: JobEvent) => act(() => onEvent(event)),
    resolve: async (t: Transcription) => {
      await act(async () => settle?.resolve(t));
    },
    reject: async (error: unknown) => {
      await act(async () => settle?.reject(error));
    },
  };
}

function readText(blob: Blob): Promise<string> {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.readAsText(blob);
  });
}

const audioFile = () => new File([new Uint8Array(2048)], 'team call.wav', { type: 'audio/wav' });

async function chooseAndStart(user: ReturnType<typeof userEvent.setup>) {
  await user.upload(screen.getByLabelText(/drop a recording here/i), audioFile());
  await user.click(screen.getByRole('button', { name: 'Transcribe' }));
}

describe('App', () => {
  beforeEach(() => {
    localStorage.clear();
    keyStore.reset();
  });

  it('shows every option before the first transcription', async () => {
    serverWith();
    render(<App repo={createMemoryRepository()} transport={fakeTransport().transport} />);
    expect(screen.getByRole('heading', { name: 'New transcription' })).toBeInTheDocument();
    for (const label of ['Exactly', 'At least', 'At most', 'Model', 'Language', 'Paragraphs', 'Entities', 'Sentiment', 'Tell speakers apart']) {
      expect(screen.getByLabelText(label)).toBeInTheDocument();
    }
    expect(screen.getByRole('button', { name: /add a known speaker/i })).toBeInTheDocument();
    // Models and text rule sets come from the server.
    expect(await screen.findByRole('option', { name: 'whisper-base' })).toBeInTheDocument();
    expect(await screen.findByLabelText('house-style')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Transcribe' })).toBeDisabled();
  });

  it('uploads, shows progress, then the transcript in sync with the player', async () => {
    const fetchMock = serverWith();
    const fake = fakeTransport();
    const repo = createMemoryRepository();
    const user = userEvent.setup();
    render(<App repo={repo} transport={fake.transport} />);
    await user.click(screen.getByLabelText('Entities'));
    await user.type(screen.getByLabelText('At most'), '3');
    await chooseAndStart(user);

    expect(fake.submit).toHaveBeenCalledTimes(1);
    const [file, options] = fake.submit.mock.calls[0]!;
    expect(file.name).toBe('team call.wav');
    expect(options).toMatchObject({ detectEntities: true, maxSpeakers: 3, diarize: true });

    fake.emit({ type: 'accepted', jobId: 'job_abc123', createdAt: Date.now() });
    // Remembered, so a reload follows it again, and kept with its name and recording at once.
    expect(localStorage.getItem('scribe.activeJob')).toBe('job_abc123');
    await waitFor(async () => expect(await repo.get('job_abc123')).toMatchObject({ fileName: 'team call.wav', status: 'queued', hasAudio: true }));
    fake.emit({ type: 'progress', progress: { stage: 'uploading', fraction: 0.5, loaded: 1024, total: 2048 } });
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '50');
    expect(screen.getByTestId('job-stage')).toHaveTextContent('Uploading · 50%');
    expect(screen.getByRole('heading', { name: /transcribing team call\.wav/i })).toHaveFocus();
    const listCalls = () => fetchMock.mock.calls.filter(([r]) => new URL(r.url).pathname === '/v1/audio/jobs').length;
    const listedBefore = listCalls();
    fake.emit({ type: 'progress', progress: { stage: 'transcribing', fraction: null } });
    expect(screen.getByRole('progressbar')).not.toHaveAttribute('aria-valuenow');
    // The server started it: the list is asked again, to show it running.
    await waitFor(() => expect(listCalls()).toBeGreaterThan(listedBefore));
    expect(screen.getByTestId('job-stage')).toHaveTextContent('Transcribing');

    await fake.resolve(twoSpeakers());
    const title = await screen.findByTestId('result-title');
    expect(title).toHaveTextContent('team call.wav');
    await waitFor(() => expect(title).toHaveFocus());
    const transcript = screen.getByTestId('transcript');
    expect(transcript).toHaveTextContent('Hello Diane, welcome to Boston.');
    expect(transcript).toHaveTextContent('Thanks, glad to be here.');
    // Entities are marked; sentiment shows per paragraph.
    expect(within(transcript).getByText('Boston.')).toHaveAttribute('title', 'Places: Boston');
    expect(within(transcript).getAllByText(/Positive|Neutral/).map((e) => e.textContent)).toEqual(['Sentiment: Positive', 'Sentiment: Neutral']);

    // Click a word: the player seeks there and the word is highlighted.
    const audio = document.querySelector('audio')!;
    await user.click(within(transcript).getByText('glad'));
    expect(audio.currentTime).toBe(4);
    expect(within(transcript).getByText('glad')).toHaveAttribute('aria-current', 'true');
    // Playing along moves the highlight.
    audio.currentTime = 1.3;
    act(() => {
      audio.dispatchEvent(new Event('timeupdate'));
    });
    expect(within(transcript).getByText('welcome')).toHaveAttribute('aria-current', 'true');
    // A block's time button plays from its start.
    await user.click(screen.getByRole('button', { name: 'Play from 0:03' }));
    expect(audio.currentTime).toBe(3.2);

    // The job is listed, to reopen later.
    expect(await screen.findByRole('button', { name: /^team call\.wav/ })).toBeInTheDocument();
    // Kept under the server's id for the job; no longer the one to follow after a reload.
    expect((await repo.list())[0]).toMatchObject({ id: 'job_abc123', fileName: 'team call.wav', status: 'completed', speakerCount: 2 });
    expect(localStorage.getItem('scribe.activeJob')).toBeNull();
  });

  it('renames a speaker everywhere, exports included, and remembers it', async () => {
    serverWith();
    const fake = fakeTransport();
    const repo = createMemoryRepository();
    const user = userEvent.setup();
    const created: Blob[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob: Blob | MediaSource) => {
      created.push(blob as Blob);
      return 'blob:test';
    });
    const downloads: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      downloads.push(this.download);
    });
    render(<App repo={repo} transport={fake.transport} />);
    await chooseAndStart(user);
    await fake.resolve(twoSpeakers());
    await screen.findByTestId('result-title');

    await user.click(screen.getByRole('button', { name: 'Rename SPEAKER_00' }));
    const input = screen.getByLabelText('New name for SPEAKER_00');
    expect(input).toHaveFocus();
    await user.type(input, 'Anna{Enter}');
    expect(screen.getAllByTestId('speaker-name').map((e) => e.textContent)).toEqual(['Anna', 'SPEAKER_01']);
    expect(screen.getAllByTestId('block-speaker')[0]).toHaveTextContent('Anna');
    expect(screen.getByRole('button', { name: 'Rename Anna' })).toHaveFocus();

    await user.click(screen.getByRole('button', { name: 'TXT' }));
    await waitFor(() => expect(created.some((b) => b.type.startsWith('text/plain'))).toBe(true));
    const text = await readText(created.find((b) => b.type.startsWith('text/plain'))!);
    expect(text).toBe('Anna: Hello Diane, welcome to Boston.\n\nSPEAKER_01: Thanks, glad to be here.\n');
    expect(downloads).toEqual(['team call.txt']);

    const [summary] = await repo.list();
    expect((await repo.get(summary!.id))?.speakerNames).toEqual({ SPEAKER_00: 'Anna' });
  });

  it('searches the transcript and steps through matches', async () => {
    serverWith();
    const fake = fakeTransport();
    const user = userEvent.setup();
    render(<App repo={createMemoryRepository()} transport={fake.transport} />);
    await chooseAndStart(user);
    await fake.resolve(twoSpeakers());
    await screen.findByTestId('result-title');
    await user.type(screen.getByRole('searchbox', { name: 'Search the transcript' }), 'to');
    expect(screen.getByTestId('search-status')).toHaveTextContent('1 of 3');
    await user.keyboard('{Enter}');
    expect(screen.getByTestId('search-status')).toHaveTextContent('2 of 3');
    await user.click(screen.getByRole('button', { name: 'Previous match' }));
    expect(screen.getByTestId('search-status')).toHaveTextContent('1 of 3');
  });

  it('cancels a running job', async () => {
    serverWith();
    const fake = fakeTransport();
    const user = userEvent.setup();
    render(<App repo={createMemoryRepository()} transport={fake.transport} />);
    await chooseAndStart(user);
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(fake.cancel).toHaveBeenCalled();
    expect(await screen.findByRole('heading', { name: 'New transcription' })).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Transcription cancelled.');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it.each([
    [new ApiError(400, 'The upload is not audio: invalid data found.', { param: 'file', code: 'invalid_audio' }), /not audio Scribe can read/],
    [new ApiError(413, 'The uploaded file is larger than this server’s limit of 5 MB.', { code: 'file_too_large' }), /too large/],
  ])('explains a failure clearly (%s)', async (error, title) => {
    serverWith();
    const fake = fakeTransport();
    const user = userEvent.setup();
    render(<App repo={createMemoryRepository()} transport={fake.transport} />);
    await chooseAndStart(user);
    await fake.reject(error);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(title);
    expect(alert).toHaveTextContent(error.message);
    await waitFor(() => expect(alert).toHaveFocus());
    // Not worth retrying as is: no retry button.
    expect(within(alert).queryByRole('button', { name: /try again/i })).not.toBeInTheDocument();
  });

  it('waits out Retry-After before trying again when rate limited or busy', async () => {
    serverWith();
    const fake = fakeTransport();
    const user = userEvent.setup();
    render(<App repo={createMemoryRepository()} transport={fake.transport} />);
    await chooseAndStart(user);
    await fake.reject(new ApiError(503, 'Every worker is busy.', { retryAfter: 30 }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The server is busy');
    expect(alert).toHaveTextContent('You can try again in 30 s.');
    expect(within(alert).getByRole('button', { name: /try again \(30 s\)/i })).toBeDisabled();
  });

  it('opens the key lock with the server message when the key is refused', async () => {
    keyStore.setKey('sk-bad');
    const fetch = serverWith({ modelsStatus: 401 });
    render(<App repo={createMemoryRepository()} transport={fakeTransport().transport} />);
    const dialog = await screen.findByRole('dialog', { name: 'API key' });
    expect(within(dialog).getByRole('alert')).toHaveTextContent('Incorrect API key provided: sk-ba***.');
    const request = fetch.mock.calls[0]![0];
    expect(request.headers.get('Authorization')).toBe('Bearer sk-bad');
  });

  it('reopens a recent job', async () => {
    serverWith();
    const fake = fakeTransport();
    const repo = createMemoryRepository();
    const user = userEvent.setup();
    render(<App repo={repo} transport={fake.transport} />);
    await chooseAndStart(user);
    await fake.resolve(twoSpeakers());
    await screen.findByTestId('result-title');
    await user.click(screen.getByRole('button', { name: 'New transcription' }));
    expect(screen.getByRole('heading', { name: 'New transcription' })).toHaveFocus();
    await user.click(screen.getByRole('button', { name: /^team call\.wav/ }));
    expect(await screen.findByTestId('transcript')).toHaveTextContent('Hello Diane');
    await user.click(screen.getByRole('button', { name: 'Delete team call.wav' }));
    expect(await screen.findByRole('heading', { name: 'New transcription' })).toBeInTheDocument();
    expect(await repo.list()).toEqual([]);
  });
  it('follows again a job that was running when the page was reloaded', async () => {
    serverWith({ jobs: [serverJob({ id: 'job_run', status: 'in_progress' })] });
    const repo = createMemoryRepository();
    const pending: JobRecord = {
      id: 'job_run',
      fileName: 'interview.wav',
      fileType: 'audio/wav',
      fileSize: 2048,
      createdAt: Date.now() - 60_000,
      status: 'queued',
      duration: null,
      speakerCount: null,
      error: null,
      source: 'server',
      hasAudio: true,
      options: null,
      result: null,
      speakerNames: {},
    };
    await repo.put(pending, new Blob([new Uint8Array(2048)], { type: 'audio/wav' }));
    localStorage.setItem('scribe.activeJob', 'job_run');
    const fake = fakeTransport();
    render(<App repo={repo} transport={fake.transport} />);
    expect(await screen.findByRole('heading', { name: 'Transcribing interview.wav' })).toBeInTheDocument();
    expect(fake.follow).toHaveBeenCalledTimes(1);
    expect(fake.follow.mock.calls[0]![0]).toBe('job_run');
    expect(fake.submit).not.toHaveBeenCalled();
    fake.emit({ type: 'progress', progress: { stage: 'transcribing', fraction: 0.3 } });
    fake.emit({ type: 'segment', segment: { start: 0, end: 3, text: 'Hello Diane, welcome to Boston.', speaker: 'A' } });
    expect(screen.getByTestId('job-stage')).toHaveTextContent('Transcribing and finding speakers · 30%');
    expect(screen.getByText('Hello Diane, welcome to Boston.')).toBeInTheDocument();
    fake.emit({ type: 'reconnecting', attempt: 1 });
    expect(screen.getByTestId('reconnecting')).toBeInTheDocument();
    await fake.resolve(twoSpeakers());
    expect(await screen.findByTestId('result-title')).toHaveTextContent('interview.wav');
    // The recording kept in this browser plays along.
    expect(document.querySelector('audio')).toHaveAttribute('src');
    expect(localStorage.getItem('scribe.activeJob')).toBeNull();
    expect(await repo.get('job_run')).toMatchObject({ status: 'completed', hasAudio: true });
  });

  it("lists the server's jobs and opens one this browser never saw", async () => {
    const fetch = serverWith({
      jobs: [
        serverJob({ id: 'job_cli', status: 'completed', usage: { type: 'duration', seconds: 6, processing_seconds: 1 } }),
        serverJob({
          id: 'job_bad',
          status: 'failed',
          error: { message: 'The upload is not audio.', type: 'invalid_request_error', param: 'file', code: 'invalid_audio' },
        }),
      ],
      results: { job_cli: twoSpeakers() },
    });
    const repo = createMemoryRepository();
    const user = userEvent.setup();
    render(<App repo={repo} transport={fakeTransport().transport} />);
    const failed = await screen.findByRole('button', { name: /^job_bad/ });
    expect(failed).toBeDisabled();
    expect(failed).toHaveTextContent('The upload is not audio.');
    await user.click(screen.getByRole('button', { name: /^job_cli/ }));
    expect(await screen.findByTestId('transcript')).toHaveTextContent('Hello Diane, welcome to Boston.');
    const asked = fetch.mock.calls.map(([r]) => new URL(r.url)).find((u) => u.pathname === '/v1/audio/jobs/job_cli/result');
    expect(asked?.searchParams.get('response_format')).toBe('verbose_json');
    // Kept here from now on (speaker names, and a recording the person attaches).
    expect(await repo.get('job_cli')).toMatchObject({ status: 'completed', fileName: 'job_cli' });

    await user.click(screen.getByRole('button', { name: 'Delete job_cli' }));
    await waitFor(() => expect(fetch.mock.calls.some(([r]) => r.method === 'DELETE' && new URL(r.url).pathname === '/v1/audio/jobs/job_cli')).toBe(true));
    expect(await repo.get('job_cli')).toBeUndefined();
  });

  it('follows a running job opened from the list, and cancels it', async () => {
    serverWith({ jobs: [serverJob({ id: 'job_run', status: 'in_progress' })] });
    const fake = fakeTransport();
    const user = userEvent.setup();
    render(<App repo={createMemoryRepository()} transport={fake.transport} />);
    await user.click(await screen.findByRole('button', { name: /^job_run/ }));
    expect(await screen.findByRole('heading', { name: 'Transcribing job_run' })).toBeInTheDocument();
    expect(fake.follow.mock.calls[0]![0]).toBe('job_run');
    expect(localStorage.getItem('scribe.activeJob')).toBe('job_run');
    // The server stops a running job at its next safe point: until then the page says so.
    fake.cancel.mockImplementationOnce(() => undefined);
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(fake.cancel).toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Cancelling…' })).toBeDisabled();
    await fake.reject(cancelledError());
    expect(await screen.findByRole('heading', { name: 'New transcription' })).toBeInTheDocument();
    expect(localStorage.getItem('scribe.activeJob')).toBeNull();
  });
  it('lists the jobs of the key in use, again when the key changes', async () => {
    const fetch = serverWith({ jobs: [serverJob({ id: 'job_mine', status: 'completed' })] });
    render(<App repo={createMemoryRepository()} transport={fakeTransport().transport} />);
    await screen.findByRole('button', { name: /^job_mine/ });
    act(() => keyStore.setKey('sk-other'));
    await waitFor(() =>
      expect(
        fetch.mock.calls.some(([r]) => new URL(r.url).pathname === '/v1/audio/jobs' && r.headers.get('Authorization') === 'Bearer sk-other'),
      ).toBe(true),
    );
  });
});
