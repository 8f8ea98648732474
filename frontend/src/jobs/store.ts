/**
 * What this browser keeps of its jobs (IndexedDB): the file's name, when, the options, the
 * result, the speaker names the person chose and (when it fits) the recording itself, so a job
 * reopens with its player. The server's job list (`recent.ts`) is joined with it by job id.
 */
import type { Transcription } from '../api/client';
import type { TranscribeOptions } from '../api/transcribe';

export type JobStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled';

export interface JobSummary {
  id: string;
  fileName: string;
  fileType: string;
  fileSize: number;
  createdAt: number;
  status: JobStatus;
  /** Seconds of audio, once known. */
  duration: number | null;
  speakerCount: number | null;
  error: string | null;
  /** Where the summary comes from: the server's job list (joined with this browser's record), or this browser alone. */
  source: 'local' | 'server';
  hasAudio: boolean;
}

export interface JobRecord extends JobSummary {
  /** The options chosen here; null for a job this browser did not submit. */
  options: (Omit<TranscribeOptions, 'knownSpeakers'> & { knownSpeakerNames: string[] }) | null;
  result: Transcription | null;
  speakerNames: Record<string, string>;
}

export interface JobsRepository {
  /** Newest first. */
  list(): Promise<JobSummary[]>;
  get(id: string): Promise<JobRecord | undefined>;
  audio(id: string): Promise<Blob | undefined>;
  put(record: JobRecord, audio?: Blob): Promise<void>;
  update(id: string, patch: Partial<Omit<JobRecord, 'id'>>): Promise<void>;
  remove(id: string): Promise<void>;
}

export const MAX_JOBS = 30;
/** Recordings larger than this are not kept (the transcript still is). */
export const MAX_AUDIO_BYTES = 300 * 1024 * 1024;

function summaryOf(record: JobRecord): JobSummary {
  const { options, result, speakerNames, ...summary } = record;
  return summary;
}

export function createMemoryRepository(): JobsRepository {
  const records = new Map<string, JobRecord>();
  const audio = new Map<string, Blob>();
  return {
    async list() {
      return [...records.values()].map(summaryOf).sort((a, b) => b.createdAt - a.createdAt);
    },
    async get(id) {
      return records.get(id);
    },
    async audio(id) {
      return audio.get(id);
    },
    async put(record, blob) {
      records.set(record.id, { ...record, hasAudio: Boolean(blob) });
      if (blob) audio.set(record.id, blob);
      const extra = [...records.values()].sort((a, b) => b.createdAt - a.createdAt).slice(MAX_JOBS);
      for (const old of extra) {
        records.delete(old.id);
        audio.delete(old.id);
      }
    },
    async update(id, patch) {
      const record = records.get(id);
      if (record) records.set(id, { ...record, ...patch });
    },
    async remove(id) {
      records.delete(id);
      audio.delete(id);
    },
  };
}

const DB_NAME = 'scribe';
const DB_VERSION = 1;
// Three stores, so listing never loads transcripts or recordings.
const SUMMARIES = 'jobs';
const DETAILS = 'results';
const AUDIO = 'audio';

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('aborted', 'AbortError'));
  });
}

function open(factory: IDBFactory): Promise<IDBDatabase> {
  const request = factory.open(DB_NAME, DB_VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    if (!db.objectStoreNames.contains(SUMMARIES)) db.createObjectStore(SUMMARIES, { keyPath: 'id' });
    if (!db.objectStoreNames.contains(DETAILS)) db.createObjectStore(DETAILS, { keyPath: 'id' });
    if (!db.objectStoreNames.contains(AUDIO)) db.createObjectStore(AUDIO);
  };
  return promised(request);
}

type Details = Pick<JobRecord, 'id' | 'options' | 'result' | 'speakerNames'>;

export function createIdbRepository(factory: IDBFactory = indexedDB): JobsRepository {
  let db: Promise<IDBDatabase> | null = null;
  const database = (): Promise<IDBDatabase> => (db ??= open(factory));

  async function list(): Promise<JobSummary[]> {
    const tx = (await database()).transaction(SUMMARIES, 'readonly');
    const all = await promised(tx.objectStore(SUMMARIES).getAll() as IDBRequest<JobSummary[]>);
    return all.sort((a, b) => b.createdAt - a.createdAt);
  }

  async function remove(id: string): Promise<void> {
    const tx = (await database()).transaction([SUMMARIES, DETAILS, AUDIO], 'readwrite');
    tx.objectStore(SUMMARIES).delete(id);
    tx.objectStore(DETAILS).delete(id);
    tx.objectStore(AUDIO).delete(id);
    await done(tx);
  }

  async function write(record: JobRecord, audio: Blob | undefined): Promise<void> {
    const tx = (await database()).transaction([SUMMARIES, DETAILS, AUDIO], 'readwrite');
    const { options, result, speakerNames, id } = record;
    tx.objectStore(SUMMARIES).put({ ...summaryOf(record), hasAudio: Boolean(audio) });
    tx.objectStore(DETAILS).put({ id, options, result, speakerNames } satisfies Details);
    if (audio) tx.objectStore(AUDIO).put(audio, id);
    await done(tx);
  }

  async function get(id: string): Promise<JobRecord | undefined> {
    const tx = (await database()).transaction([SUMMARIES, DETAILS], 'readonly');
    const [summary, details] = await Promise.all([
      promised(tx.objectStore(SUMMARIES).get(id) as IDBRequest<JobSummary | undefined>),
      promised(tx.objectStore(DETAILS).get(id) as IDBRequest<Details | undefined>),
    ]);
    if (!summary || !details) return undefined;
    return { ...summary, ...details };
  }

  return {
    list,
    get,
    async audio(id) {
      const tx = (await database()).transaction(AUDIO, 'readonly');
      return promised(tx.objectStore(AUDIO).get(id) as IDBRequest<Blob | undefined>);
    },
    async put(record, audio) {
      const keep = audio && audio.size <= MAX_AUDIO_BYTES ? audio : undefined;
      try {
        await write(record, keep);
      } catch (error) {
        // Out of quota: keep the transcript without the recording.
        if (!keep) throw error;
        await write(record, undefined);
      }
      const all = await list();
      for (const old of all.slice(MAX_JOBS)) await remove(old.id);
    },
    async update(id, patch) {
      const current = await get(id);
      if (!current) return;
      const next = { ...current, ...patch };
      const tx = (await database()).transaction([SUMMARIES, DETAILS], 'readwrite');
      tx.objectStore(SUMMARIES).put(summaryOf(next));
      tx.objectStore(DETAILS).put({ id, options: next.options, result: next.result, speakerNames: next.speakerNames } satisfies Details);
      await done(tx);
    },
    remove,
  };
}

/** IndexedDB when the browser has it, else memory (the list then lasts for this page only). */
export function defaultRepository(): JobsRepository {
  try {
    if (typeof indexedDB !== 'undefined') return createIdbRepository(indexedDB);
  } catch {
    // fall through
  }
  return createMemoryRepository();
}
