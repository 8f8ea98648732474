import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../api/transcribe';
import { twoSpeakers } from '../test/fixtures';
import { createIdbRepository, createMemoryRepository, type JobRecord, type JobsRepository, MAX_JOBS } from './store';

function record(id: string, createdAt: number): JobRecord {
  const { knownSpeakers: _, ...options } = DEFAULT_OPTIONS;
  return {
    id,
    fileName: `${id}.wav`,
    fileType: 'audio/wav',
    fileSize: 10,
    createdAt,
    status: 'completed',
    duration: 6,
    speakerCount: 2,
    error: null,
    source: 'local',
    hasAudio: false,
    options: { ...options, knownSpeakerNames: [] },
    result: twoSpeakers(),
    speakerNames: {},
  };
}

describe.each<[string, () => JobsRepository]>([
  ['IndexedDB', () => createIdbRepository(new IDBFactory())],
  ['memory', () => createMemoryRepository()],
])('%s repository', (_, make) => {
  it('keeps jobs newest first, with results, names and audio', async () => {
    const repo = make();
    await repo.put(record('a', 1));
    await repo.put(record('b', 2), new Blob(['RIFF'], { type: 'audio/wav' }));
    const list = await repo.list();
    expect(list.map((j) => j.id)).toEqual(['b', 'a']);
    expect(list[0]).not.toHaveProperty('result');
    expect(list[0]!.hasAudio).toBe(true);
    await repo.update('a', { speakerNames: { SPEAKER_00: 'Anna' } });
    const a = await repo.get('a');
    expect(a?.speakerNames).toEqual({ SPEAKER_00: 'Anna' });
    expect(a?.result?.segments).toHaveLength(2);
    // (fake-indexeddb clones jsdom's Blob into a plain object: browsers keep the Blob itself.)
    expect(await repo.audio('b')).toBeDefined();
    await repo.remove('b');
    expect((await repo.list()).map((j) => j.id)).toEqual(['a']);
    expect(await repo.audio('b')).toBeUndefined();
  });

  it(`keeps at most ${MAX_JOBS} jobs`, async () => {
    const repo = make();
    for (let i = 0; i < MAX_JOBS + 2; i += 1) await repo.put(record(`j${i}`, i));
    const list = await repo.list();
    expect(list).toHaveLength(MAX_JOBS);
    expect(list.at(-1)?.id).toBe('j2');
  });
});
