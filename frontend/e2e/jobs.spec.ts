/**
 * End-to-end, the jobs API behind the app: a job's progress and partial segments from its event
 * stream, a dropped connection resumed with Last-Event-ID, a reload that follows the running job
 * again, cancel, and recent jobs from the server. A real `scribe serve`, real recordings.
 */
import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const EVAL = process.env.SCRIBE_EVAL_DIR ?? path.resolve(here, '../../../shared/eval');
// 30 s, two speakers on a telephone line: long enough to watch (and cancel) a running job.
const CALL = path.join(EVAL, 'pyannote_sample.wav');
const KEY = process.env.SCRIBE_E2E_API_KEY ?? '';
const TRANSCRIBE_TIMEOUT = Number(process.env.SCRIBE_E2E_TRANSCRIBE_TIMEOUT_S ?? 600) * 1000;

async function openApp(page: Page): Promise<void> {
  if (KEY) await page.addInitScript((key) => localStorage.setItem('scribe.apiKey', key), KEY);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'New transcription' })).toBeVisible();
}

function authorization(): Record<string, string> {
  return KEY ? { Authorization: `Bearer ${KEY}` } : {};
}

/** The id of the job the page follows (set once the server accepted the upload). */
async function activeJob(page: Page): Promise<string> {
  await expect.poll(() => page.evaluate(() => localStorage.getItem('scribe.activeJob')), { timeout: 60_000 }).toMatch(/^job_/);
  return (await page.evaluate(() => localStorage.getItem('scribe.activeJob')))!;
}

/** Submit the call with one speaker count (cheaper) and return the server's job id. */
async function submitCall(page: Page): Promise<string> {
  await page.getByLabel('Exactly', { exact: true }).fill('2');
  await page.getByLabel(/drop a recording here/i).setInputFiles(CALL);
  await page.getByRole('button', { name: 'Transcribe' }).click();
  await expect(page.getByRole('heading', { name: 'Transcribing pyannote_sample.wav' })).toBeVisible();
  return activeJob(page);
}

test('a running job: progress and segments, a dropped connection resumed, followed again after a reload', async ({ page, request }) => {
  test.setTimeout(TRANSCRIBE_TIMEOUT + 120_000);
  const streams: { lastEventId: string | null }[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/events')) streams.push({ lastEventId: r.headers()['last-event-id'] ?? null });
  });
  await openApp(page);
  const id = await submitCall(page);

  // Job progress from the server: a stage past the upload, with its percent, and segments as
  // they are transcribed.
  const stage = page.getByTestId('job-stage');
  await expect(stage).toContainText(/(Transcribing and finding speakers|Matching words to speakers|Adding paragraphs) · \d+%/, { timeout: TRANSCRIBE_TIMEOUT });
  const bar = page.getByRole('progressbar');
  expect(Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(0);
  await expect(page.getByTestId('partial-segment').first()).toBeVisible({ timeout: TRANSCRIBE_TIMEOUT });
  expect(streams[0]?.lastEventId).toBeNull();

  // The connection drops (the browser goes offline for a moment): the app reconnects and
  // resumes after the last event it saw.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.waitForTimeout(1500);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await expect.poll(() => streams.slice(1).some((s) => s.lastEventId !== null && Number(s.lastEventId) > 0), { timeout: 30_000 }).toBe(true);

  // Reload while it runs: the page follows the same job again.
  const status = await request.get(`/v1/audio/jobs/${id}`, { headers: authorization() });
  const running = ((await status.json()) as { status: string }).status;
  await page.reload();
  if (running !== 'completed') {
    await expect(page.getByRole('heading', { name: 'Transcribing pyannote_sample.wav' })).toBeVisible();
  }
  const title = page.getByTestId('result-title');
  await expect(title).toHaveText('pyannote_sample.wav', { timeout: TRANSCRIBE_TIMEOUT });
  await expect(page.getByTestId('speaker-name')).toHaveCount(2);
  await expect(page.getByTestId('transcript')).not.toBeEmpty();
  // The recording kept in this browser plays along.
  await expect(page.locator('audio')).toHaveAttribute('src', /^blob:/);
  expect(await page.evaluate(() => localStorage.getItem('scribe.activeJob'))).toBeNull();

  // Listed by the server, and reopened from the list after another reload.
  await page.reload();
  const item = page.getByRole('button', { name: /^pyannote_sample\.wav/ }).first();
  await expect(item).toBeEnabled();
  await page.getByRole('button', { name: 'New', exact: true }).click();
  await item.click();
  await expect(title).toHaveText('pyannote_sample.wav');
  const listed = await request.get('/v1/audio/jobs?limit=5', { headers: authorization() });
  const jobs = ((await listed.json()) as { data: { id: string; status: string }[] }).data;
  expect(jobs.find((j) => j.id === id)?.status).toBe('completed');
});

test('cancel stops a running job on the server', async ({ page, request }) => {
  test.setTimeout(TRANSCRIBE_TIMEOUT + 60_000);
  await openApp(page);
  const id = await submitCall(page);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('heading', { name: 'New transcription' })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('status').first()).toHaveText('Transcription cancelled.');
  await expect(page.locator('main [role="alert"]')).toHaveCount(0);
  await expect
    .poll(async () => ((await (await request.get(`/v1/audio/jobs/${id}`, { headers: authorization() })).json()) as { status: string }).status, {
      timeout: 30_000,
    })
    .toBe('cancelled');
  // The list says so, from the server.
  await expect(page.locator(`[data-status="cancelled"]`).filter({ hasText: 'pyannote_sample.wav' }).first()).toBeVisible();
});

test('a job of this key submitted elsewhere is listed and opens', async ({ page, request }) => {
  test.setTimeout(TRANSCRIBE_TIMEOUT + 60_000);
  const { readFile } = await import('node:fs/promises');
  const created = await request.post('/v1/audio/jobs', {
    headers: authorization(),
    multipart: {
      file: { name: 'jfk.flac', mimeType: 'audio/flac', buffer: await readFile(path.join(EVAL, 'jfk.flac')) },
      response_format: 'text',
      diarize: 'false',
    },
  });
  expect(created.status()).toBe(202);
  const { id } = (await created.json()) as { id: string };
  await expect
    .poll(async () => ((await (await request.get(`/v1/audio/jobs/${id}`, { headers: authorization() })).json()) as { status: string }).status, {
      timeout: TRANSCRIBE_TIMEOUT,
      intervals: [1000],
    })
    .toBe('completed');
  await openApp(page);
  await page.getByRole('button', { name: new RegExp(`^${id}`) }).click();
  await expect(page.getByTestId('result-title')).toHaveText(id);
  await expect(page.getByTestId('transcript')).toContainText(/ask not what your country can do for you/i);
});
