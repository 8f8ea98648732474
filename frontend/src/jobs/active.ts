/**
 * The job this page is following, remembered across reloads (localStorage): a job still running
 * when the page is reloaded is followed again.
 */
const STORAGE_KEY = 'scribe.activeJob';

export function activeJobId(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

export function rememberActiveJob(id: string): void {
  try {
    localStorage.setItem(STORAGE_KEY, id);
  } catch {
    // Private mode: the job is still listed under Recent.
  }
}

/** Forget `id` (only if it is still the remembered one: another tab may have moved on). */
export function forgetActiveJob(id: string): void {
  try {
    if (localStorage.getItem(STORAGE_KEY) === id) localStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing kept, nothing to forget
  }
}
