/**
 * End-to-end, the jobs API behind the app: a job's progress and partial segments from its event
 * stream, a reload that follows the running job again, a dropped stream resumed with
 * Last-Event-ID, cancel, and recent jobs from the server. A real `scribe serve`, real recordings.
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

test('a running job: progress, followed again after a reload, reopened from the list', async ({ page, request }) => {
  test.setTimeout(2 * TRANSCRIBE_TIMEOUT);
  await openApp(page);
  const id = await submitCall(page);

  // Job progress from the server: a stage past the upload, with its percent.
  await expect(page.getByTestId('job-stage')).toContainText(/(Transcribing and finding speakers|Matching words to speakers|Adding paragraphs) · \d+%/, {
    timeout: TRANSCRIBE_TIMEOUT,
  });
  expect(Number(await page.getByRole('progressbar').getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(0);

  // Reload while it runs: the page follows the same job again.
  const before = (await (await request.get(`/v1/audio/jobs/${id}`, { headers: authorization() })).json()) as { status: string };
  await page.reload();
  expect(before.status).toBe('in_progress'); // a 30 s call takes a while: the reload comes well before its end
  await expect(page.getByRole('heading', { name: 'Transcribing pyannote_sample.wav' })).toBeVisible();
  await expect(page.getByTestId('job-stage')).toContainText(/Transcribing|Matching|Adding|Done/);
  const title = page.getByTestId('result-title');
  await expect(title).toHaveText('pyannote_sample.wav', { timeout: TRANSCRIBE_TIMEOUT });
  await expect(page.getByTestId('speaker-name')).toHaveCount(2);
  await expect(page.getByTestId('transcript')).toContainText(/hello/i);
  // The recording kept in this browser plays along.
  await expect(page.locator('audio')).toHaveAttribute('src', /^blob:/);
  expect(await page.evaluate(() => localStorage.getItem('scribe.activeJob'))).toBeNull();

  // Listed by the server, and reopened from the list after another reload.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'New transcription' })).toBeVisible();
  await page.getByRole('button', { name: /^pyannote_sample\.wav/ }).first().click();
  await expect(title).toHaveText('pyannote_sample.wav');
  const listed = (await (await request.get('/v1/audio/jobs?limit=5', { headers: authorization() })).json()) as { data: { id: string; status: string }[] };
  expect(listed.data.find((j) => j.id === id)?.status).toBe('completed');
});

test('a dropped event stream is resumed with Last-Event-ID: partial segments, then the rest', async ({ page }) => {
  test.setTimeout(TRANSCRIBE_TIMEOUT + 60_000);
  // The first connection to the job's events is cut after its first finished segment (the route
  // forwards the server's real events up to there, then closes): the app shows what it got, then
  // reconnects and resumes after the last event it saw.
  const seen: (string | null)[] = [];
  let cutAfter: string | null = null;
  // The route holds the first response until the job has ended. On a slow machine that can take
  // longer than the app's 35 s of silence before it gives a connection up, so the page's clock
  // stands still meanwhile: the app then sees only the cut this test makes.
  await page.clock.install();
  await page.route('**/v1/audio/jobs/*/events', async (route) => {
    seen.push(route.request().headers()['last-event-id'] ?? null);
    if (seen.length > 1) {
      // Before the app may resume: the partial segment it was sent is on the page.
      await expect(page.getByTestId('partial-segment').first()).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Transcribing jfk.flac' })).toBeVisible();
      return route.continue();
    }
    // A second ahead: the page's clock runs on while its time comes back (pausing in its past fails).
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1_000);
    const response = await route.fetch({ timeout: TRANSCRIBE_TIMEOUT });
    const blocks = (await response.text()).split('\n\n').filter((b) => b.includes('data:'));
    const first = blocks.findIndex((b) => b.includes('"transcript.text.segment"'));
    expect(first).toBeGreaterThanOrEqual(0); // the server streams finished segments
    const kept = blocks.slice(0, first + 1);
    expect(kept.length).toBeLessThan(blocks.length);
    cutAfter = /^id: (\d+)$/m.exec(kept.at(-1)!)?.[1] ?? null;
    await route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream' }, body: kept.map((b) => `${b}\n\n`).join('') });
    await page.clock.resume();
  });
  await openApp(page);
  await page.getByLabel(/drop a recording here/i).setInputFiles(path.join(EVAL, 'jfk.flac'));
  await page.getByRole('button', { name: 'Transcribe' }).click();
  await expect(page.getByTestId('result-title')).toHaveText('jfk.flac', { timeout: TRANSCRIBE_TIMEOUT });
  await expect(page.getByTestId('transcript')).toContainText(/ask not what your country can do for you/i);
  expect(cutAfter).toMatch(/^\d+$/);
  expect(seen[0]).toBeNull();
  expect(seen[1]).toBe(cutAfter); // resumed right after the last event it had
  expect(seen).toHaveLength(2);
});

test('cancel stops a running job on the server', async ({ page, request }) => {
  test.setTimeout(TRANSCRIBE_TIMEOUT + 60_000);
  await openApp(page);
  const id = await submitCall(page);
  await page.getByRole('button', { name: 'Cancel' }).click();
  // A running job stops at its next safe point: seconds on an idle machine, longer on a busy one.
  await expect(page.getByRole('heading', { name: 'New transcription' })).toBeVisible({ timeout: TRANSCRIBE_TIMEOUT });
  await expect(page.getByRole('status').first()).toHaveText('Transcription cancelled.');
  await expect(page.locator('main [role="alert"]')).toHaveCount(0);
  const job = (await (await request.get(`/v1/audio/jobs/${id}`, { headers: authorization() })).json()) as { status: string };
  expect(job.status).toBe('cancelled');
  // The list says so, from the server.
  await expect(page.locator('[data-status="cancelled"]').filter({ hasText: 'pyannote_sample.wav' }).first()).toBeVisible();
});

test('a job of this key submitted elsewhere is listed and opens', async ({ page, request }) => {
  test.setTimeout(TRANSCRIBE_TIMEOUT + 60_000);
  const { readFile } = await import('node:fs/promises');
  // A name no other test uses: the list names a server job by its upload's file name.
  const name = `submitted-elsewhere-${Date.now()}.flac`;
  const created = await request.post('/v1/audio/jobs', {
    headers: authorization(),
    multipart: {
      file: { name, mimeType: 'audio/flac', buffer: await readFile(path.join(EVAL, 'jfk.flac')) },
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
  await page.getByRole('button', { name: new RegExp(`^${name.replace('.', '\\.')}`) }).click();
  await expect(page.getByTestId('result-title')).toHaveText(name);
  await expect(page.getByTestId('transcript')).toContainText(/ask not what your country can do for you/i);
});
