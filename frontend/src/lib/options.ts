import { DEFAULT_OPTIONS, type TranscribeOptions } from '../api/transcribe';

const KEY = 'scribe.options';

/** The options last used (voice clips are not kept: they can be large). */
export function loadOptions(): TranscribeOptions {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<TranscribeOptions> | null;
    if (saved && typeof saved === 'object') return { ...DEFAULT_OPTIONS, ...saved, knownSpeakers: [] };
  } catch {
    // ignore a broken or refused store
  }
  return { ...DEFAULT_OPTIONS };
}

export function saveOptions(options: TranscribeOptions): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...options, knownSpeakers: [] }));
  } catch {
    // storage refused: the options last for this page
  }
}

/** A problem that stops the request from being sent, in words, or null. */
export function optionsProblem(options: TranscribeOptions): string | null {
  if (!options.diarize) return null;
  const { numSpeakers: n, minSpeakers: lo, maxSpeakers: hi } = options;
  for (const value of [n, lo, hi]) {
    if (value !== null && (!Number.isInteger(value) || value < 1 || value > 32)) return 'Speaker counts must be whole numbers from 1 to 32.';
  }
  if (n === null && lo !== null && hi !== null && lo > hi) return 'The least number of speakers is more than the most.';
  const clips = options.knownSpeakers;
  if (clips.some((c) => !c.name.trim() || !c.reference)) return 'Each known speaker needs a name and a voice clip.';
  const names = clips.map((c) => c.name.trim().toLowerCase());
  if (new Set(names).size !== names.length) return 'Two known speakers have the same name.';
  return null;
}
