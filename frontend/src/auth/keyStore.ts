/**
 * The API key, kept in this browser (localStorage) and sent as `Authorization: Bearer <key>` on
 * every API call. When the server answers 401, `requireKey(message)` asks the header's key lock
 * to open again with the server's words.
 */

const STORAGE_KEY = 'scribe.apiKey';

export interface KeyState {
  /** The saved key, or null when none is set. */
  readonly key: string | null;
  /** Why the lock should open now (the server's 401 message), or null when it need not. */
  readonly prompt: string | null;
}

type Listener = () => void;

function readKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

let state: KeyState = { key: readKey(), prompt: null };
const listeners = new Set<Listener>();

function emit(next: KeyState): void {
  state = next;
  for (const listener of listeners) listener();
}

export const keyStore = {
  getState(): KeyState {
    return state;
  },
  getKey(): string | null {
    return state.key;
  },
  setKey(key: string): void {
    const trimmed = key.trim();
    try {
      if (trimmed) localStorage.setItem(STORAGE_KEY, trimmed);
      else localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Private windows may refuse storage: the key then lasts for this page only.
    }
    emit({ key: trimmed || null, prompt: null });
  },
  clearKey(): void {
    keyStore.setKey('');
  },
  /** The server refused the key (401): open the lock with its message. */
  requireKey(message: string): void {
    emit({ ...state, prompt: message });
  },
  dismissPrompt(): void {
    if (state.prompt !== null) emit({ ...state, prompt: null });
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** For tests: forget the in-memory state and re-read storage. */
  reset(): void {
    emit({ key: readKey(), prompt: null });
  },
};

/** The headers every API call carries. */
export function authHeaders(): Record<string, string> {
  const key = keyStore.getKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}
