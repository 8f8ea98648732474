import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import { serverJob } from '../test/jobsServer';
import { twoSpeakers } from '../test/fixtures';
import { loadRecentJobs, mergeJobs } from './recent';
import { createMemoryRepository, type JobRecord, type JobSummary } from './store';

function local(id: string, createdAt: number, patch: Partial<JobSummary> = {}): JobSummary {
  return { id, fileName: `${id}.wav`, fileType: 'audio/wav', fileSize: 10, createdAt, status: 'completed', duration: 6, speakerCount: 2, error: null, source: 'server', hasAudio: true, ...patch };
}

describe('mergeJobs', () => {
  it('takes status and file names from the server and recordings from this browser, newest first', () => {
    const server = {
      data: [
        serverJob({ id: 'job_new', status: 'in_progress', created_at: 300 }),
        serverJob({
          id: 'job_cli',
          status: 'completed',
          created_at: 200,
          filename: 'standup.m4a',
          usage: { type: 'duration', seconds: 42.5, processing_seconds: 3 },
        }),
        serverJob({ id: 'job_raw', status: 'completed', created_at: 150, filename: null }),
        serverJob({
          id: 'job_bad',
          status: 'failed',
          created_at: 100,
          error: { message: 'Not audio.', type: 'invalid_request_error', param: 'file', code: 'invalid_audio' },
        }),
      ],
      hasMore: false,
      lastId: 'job_bad',
    };
    const mine = [local('job_new', 300_000, { status: 'queued', duration: null, speakerCount: null }), local('job_bad', 100_000, { status: 'queued' })];
    const merged = mergeJobs(server, mine);
    expect(merged.map((j) => [j.id, j.fileName, j.status, j.source])).toEqual([
      ['job_new', 'job_new.wav', 'in_progress', 'server'], // a server without names: this browser's
      ['job_cli', 'standup.m4a', 'completed', 'server'], // submitted elsewhere: the server's name
      ['job_raw', 'job_raw', 'completed', 'server'], // no name anywhere: its id names it
      ['job_bad', 'job_bad.wav', 'failed', 'server'],
    ]);
    expect(merged[1]).toMatchObject({ duration: 42.5, createdAt: 200_000, hasAudio: false });
    expect(merged[3]).toMatchObject({ error: 'Not audio.', hasAudio: true });
  });

  it('keeps transcripts the server no longer lists, drops unfinished ones it does not know', () => {
    const merged = mergeJobs({ data: [serverJob({ id: 'job_a', created_at: 50 })], hasMore: false, lastId: 'job_a' }, [
      local('job_expired', 10_000),
      local('job_gone', 20_000, { status: 'in_progress' }),
    ]);
    expect(merged.map((j) => [j.id, j.source])).toEqual([
      ['job_a', 'server'],
      ['job_expired', 'local'],
    ]);
  });
});

describe('loadRecentJobs', () => {
  it("falls back to this browser's list when the server's cannot be read", async () => {
    const repo = createMemoryRepository();
    const record: JobRecord = { ...local('job_x', 1), options: null, result: twoSpeakers(), speakerNames: {} };
    await repo.put(record);
    const refused = vi.fn(async () => {
      throw new ApiError(503, 'Database unavailable.');
    });
    const { jobs, serverError } = await loadRecentJobs(repo, refused);
    expect(jobs.map((j) => j.id)).toEqual(['job_x']);
    expect(serverError?.kind).toBe('busy');
    expect(refused).toHaveBeenCalledWith({ limit: 100 });
  });
});
