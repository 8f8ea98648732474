/**
 * End-to-end: the built app, served by a real `scribe serve`, in Chromium, on real recordings.
 * scripts/test_frontend.sh starts the server (SCRIBE_MAX_UPLOAD_MB=2) and sets SCRIBE_E2E_URL.
 */
import { expect, test, type Page } from '@playwright/test';
import JSZip from 'jszip';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const EVAL = process.env.SCRIBE_EVAL_DIR ?? path.resolve(here, '../../../shared/eval');
// 5 s, two voices (one per channel, overlapping): two speakers at a small cost in CPU time.
const TWO_SPEAKERS = path.join(EVAL, 'stereo_two_voices.wav');
const JFK = path.join(EVAL, 'jfk.flac'); // 11 s, one speaker
/** A key for servers that require one (empty: the server takes requests without a key). */
const KEY = process.env.SCRIBE_E2E_API_KEY ?? '';
/**
 * A 30 s clip takes seconds on an idle 2-core CPU, but minutes when the machine is shared with
 * other heavy work: wait long rather than fail on a busy CI runner.
 */
const TRANSCRIBE_TIMEOUT = Number(process.env.SCRIBE_E2E_TRANSCRIBE_TIMEOUT_S ?? 600) * 1000;

async function openApp(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  if (KEY) await page.addInitScript((key) => localStorage.setItem('scribe.apiKey', key), KEY);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'New transcription' })).toBeVisible();
  return problems;
}

async function download(page: Page, name: string): Promise<Buffer> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name, exact: true }).click()]);
  const where = await file.path();
  return readFile(where);
}

test.describe.serial('a transcription, from upload to export', () => {
  let page: Page;
  let problems: string[];

  test.beforeAll(async ({ browser }) => {
    page = await browser.newPage();
    problems = await openApp(page);
  });
  test.afterAll(async () => {
    await page.close();
  });

  test('uploads with a progress bar, follows the job, shows the transcript', async () => {
    test.setTimeout(TRANSCRIBE_TIMEOUT + 60_000);
    // The options are all there before the first transcription; the model list is the server's.
    await expect(page.getByRole('option', { name: /whisper/ }).first()).toBeAttached();
    for (const label of ['Exactly', 'At least', 'At most', 'Language', 'Paragraphs', 'Entities', 'Sentiment']) {
      await expect(page.getByLabel(label, { exact: true })).toBeVisible();
    }
    await page.getByLabel('Exactly', { exact: true }).fill('2');
    await page.getByLabel('Sentiment', { exact: true }).check();

    // Slow the upload down so its progress can be seen (Chromium's network throttling).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 100 * 1024 });

    await page.getByLabel(/drop a recording here/i).setInputFiles(TWO_SPEAKERS);
    await expect(page.getByTestId('chosen-file')).toHaveText('stereo_two_voices.wav');
    await page.getByRole('button', { name: 'Transcribe' }).click();

    const bar = page.getByRole('progressbar');
    await expect(page.getByRole('heading', { name: 'Transcribing stereo_two_voices.wav' })).toBeFocused();
    await expect(page.getByTestId('job-stage')).toContainText(/Uploading · [1-9]\d?%/);
    const during = Number(await bar.getAttribute('aria-valuenow'));
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThan(100);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    // Then the job's own stages from the server (a 5 s clip may be done before one is seen).
    const title = page.getByTestId('result-title');
    await expect(page.getByTestId('job-stage').or(title)).toContainText(
      /Waiting for a free worker|Reading the audio|Transcribing|Matching|Adding|Done|stereo_two_voices/,
      { timeout: 30_000 },
    );

    await expect(title).toHaveText('stereo_two_voices.wav', { timeout: TRANSCRIBE_TIMEOUT });
    await expect(title).toBeFocused();
    const transcript = page.getByTestId('transcript');
    await expect(transcript).toContainText(/wizard/i);
    await expect(transcript).toContainText(/curtain/i);
    // Two speakers, in two different colours.
    await expect(page.getByTestId('speaker-name')).toHaveCount(2);
    const colours = await page
      .getByTestId('speaker-name')
      .evaluateAll((names) => names.map((n) => getComputedStyle(n).color));
    expect(new Set(colours).size).toBe(2);
    await expect(transcript.getByText(/^Sentiment: (Positive|Neutral|Negative)$/).first()).toBeAttached();
  });

  test('clicking a word seeks the player; a block time plays from there', async () => {
    const word = page.getByTestId('transcript').locator('[data-start]').nth(5);
    const start = Number(await word.getAttribute('data-start'));
    await word.click();
    const audio = page.locator('audio');
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime)).toBeCloseTo(start, 1);
    await expect(word).toHaveAttribute('aria-current', 'true');

    const second = page.getByTestId('segment-seek').nth(1);
    const label = (await second.getAttribute('aria-label')) ?? '';
    await second.click();
    const [minutes, seconds] = label.replace('Play from ', '').split(':').map(Number);
    const time = await audio.evaluate((a: HTMLAudioElement) => a.currentTime);
    expect(Math.floor(time)).toBeGreaterThanOrEqual(minutes! * 60 + seconds! - 1);
  });

  test('renaming a speaker changes it everywhere, exports included', async () => {
    await page.getByRole('button', { name: 'Rename SPEAKER_00' }).click();
    const input = page.getByLabel('New name for SPEAKER_00');
    await expect(input).toBeFocused();
    await input.fill('Diane');
    await input.press('Enter');
    await expect(page.getByTestId('speaker-name').first()).toHaveText('Diane');
    await expect(page.getByTestId('block-speaker').filter({ hasText: 'Diane' }).first()).toBeVisible();
    await expect(page.getByTestId('block-speaker').filter({ hasText: 'SPEAKER_00' })).toHaveCount(0);

    const txt = (await download(page, 'TXT')).toString('utf8');
    expect(txt).toMatch(/^Diane: /m);
    expect(txt).not.toContain('SPEAKER_00');
    const srt = (await download(page, 'SRT')).toString('utf8');
    expect(srt).toMatch(/^1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n/);
    expect(srt).toContain('Diane: ');
    const vtt = (await download(page, 'VTT')).toString('utf8');
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    expect(vtt).toContain('<v Diane>');
    const json = JSON.parse((await download(page, 'JSON')).toString('utf8'));
    expect(json.speakers).toContain('Diane');
    expect(json.speaker_labels.SPEAKER_00).toBe('Diane');
    expect(json.words.some((w: { speaker: string }) => w.speaker === 'Diane')).toBe(true);
    const docx = await JSZip.loadAsync(await download(page, 'DOCX'));
    const xml = await docx.file('word/document.xml')!.async('string');
    expect(xml).toContain('Diane');
    expect(xml).toContain('stereo_two_voices.wav');
  });

  test('search highlights matches and counts them', async () => {
    await page.getByRole('searchbox', { name: 'Search the transcript' }).fill('the');
    await expect(page.getByTestId('search-status')).toHaveText(/^1 of \d+$/);
    const transcript = page.getByTestId('transcript');
    await expect(transcript.locator('[data-match="current"]').first()).toHaveText(/the/i);
    const count = Number((await page.getByTestId('search-status').textContent())?.split(' of ')[1]);
    if (count > 1) {
      await page.getByRole('searchbox', { name: 'Search the transcript' }).press('Enter');
      await expect(page.getByTestId('search-status')).toHaveText(`2 of ${count}`);
      await expect(transcript.locator('[data-match="match"]').first()).toBeAttached();
    }
  });

  test('the job is in the recent list after a reload, names and player kept', async () => {
    await page.reload();
    await page.getByRole('button', { name: /^stereo_two_voices\.wav/ }).click();
    await expect(page.getByTestId('result-title')).toHaveText('stereo_two_voices.wav');
    await expect(page.getByTestId('speaker-name').first()).toHaveText('Diane');
    await expect(page.locator('audio')).toHaveAttribute('src', /^blob:/);
    await expect.poll(() => page.locator('audio').evaluate((a: HTMLAudioElement) => a.duration)).toBeGreaterThan(4);
  });

  test('no errors in the console', () => {
    expect(problems).toEqual([]);
  });
});

test('a file that is not audio gets a clear error', async ({ page }) => {
  const problems = await openApp(page);
  await page.getByLabel(/drop a recording here/i).setInputFiles({ name: 'notes.mp3', mimeType: 'audio/mpeg', buffer: Buffer.from('These are meeting notes, not a recording.\n'.repeat(50)) });
  await page.getByRole('button', { name: 'Transcribe' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('This file is not audio Scribe can read', { timeout: 60_000 });
  await expect(alert).toBeFocused();
  await expect(page.getByRole('button', { name: 'Transcribe' })).toBeEnabled();
  // The browser logs the failed request itself; the app adds nothing.
  expect(problems.filter((p) => !p.includes('400'))).toEqual([]);
});

test('a file over the server limit is refused clearly', async ({ page }) => {
  await openApp(page);
  const big = Buffer.alloc(3 * 1024 * 1024, 1); // the test server accepts 2 MB
  await page.getByLabel(/drop a recording here/i).setInputFiles({ name: 'long.wav', mimeType: 'audio/wav', buffer: big });
  await page.getByRole('button', { name: 'Transcribe' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('The file is too large for this server', { timeout: 60_000 });
  await expect(alert).toContainText('2 MB'); // the server's own message names its limit
});

test('a wrong key opens the key lock with the server message', async ({ page, request }) => {
  // Servers with API keys answer a wrong one with 401; on one without keys, answer as they would.
  const probe = await request.get('/v1/models', { headers: { Authorization: 'Bearer sk-wrong-key' } });
  if (probe.status() !== 401) {
    await page.route('**/v1/**', async (route) => {
      const auth = route.request().headers().authorization;
      if (auth !== 'Bearer sk-wrong-key') return route.continue();
      await route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: { message: 'Incorrect API key provided: sk-wro***key.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }),
      });
    });
  }
  await openApp(page);
  await page.getByRole('button', { name: /API key|Key set/ }).click();
  await page.getByLabel('Key', { exact: true }).fill('sk-wrong-key');
  await page.getByRole('button', { name: 'Save key' }).click();
  // The app asks the server again with the new key: the 401 reopens the lock.
  const dialog = page.getByRole('dialog', { name: 'API key' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('alert')).toContainText('Incorrect API key provided');
  await expect(dialog.getByLabel('Key', { exact: true })).toBeFocused();
  // Uploading with the wrong key fails the same way.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await page.getByLabel(/drop a recording here/i).setInputFiles(JFK);
  await page.getByRole('button', { name: 'Transcribe' }).click();
  await expect(dialog).toBeVisible({ timeout: 60_000 });
  await expect(dialog.getByRole('alert')).toContainText('Incorrect API key provided');
  await expect(page.locator('main [role="alert"]')).toContainText('Your API key was not accepted');
  expect(await page.evaluate(() => localStorage.getItem('scribe.apiKey'))).toBe('sk-wrong-key');
});

test('a server that needs a key asks for it on the first visit, once', async ({ page, request }) => {
  const probe = await request.get('/v1/models');
  test.skip(probe.status() !== 401 || !KEY, 'this server takes requests without a key');
  await page.goto('/');
  const dialog = page.getByRole('dialog', { name: 'API key' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('alert')).not.toBeEmpty();
  await dialog.getByLabel('Key', { exact: true }).fill(KEY);
  await dialog.getByRole('button', { name: 'Save key' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('button', { name: 'Key set' })).toBeVisible();
  await expect(page.getByRole('option', { name: /whisper/ }).first()).toBeAttached();
  await page.reload();
  await expect(page.getByRole('option', { name: /whisper/ }).first()).toBeAttached();
  await expect(dialog).toBeHidden();
});

test('light and dark themes; the choice is kept', async ({ page }) => {
  await openApp(page);
  await page.getByRole('button', { name: 'Dark theme' }).click();
  await expect(page.locator('html')).toHaveClass(/dark/);
  await page.reload();
  await expect(page.locator('html')).toHaveClass(/dark/);
  await page.getByRole('button', { name: 'Light theme' }).click();
  await expect(page.locator('html')).not.toHaveClass(/dark/);
});

test('works at phone width @phone', async ({ page }) => {
  await openApp(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await expect(page.getByLabel(/drop a recording here/i)).toBeAttached();
  await expect(page.getByRole('button', { name: 'Transcribe' })).toBeVisible();
});

test('the keyboard reaches the file picker and the options', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel(/drop a recording here/i)).toBeFocused();
});
