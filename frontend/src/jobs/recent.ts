/**
 * The recent-jobs list: the server's jobs for this key (`GET /v1/audio/jobs`; their status and
 * file name are the truth) joined by id with what this browser keeps of them (file type,
 * recording, transcript, speaker names), plus transcripts kept here that the server no longer
 * lists.
 */
import type { ApiError } from '../api/errors';
import { toApiError } from '../api/errors';
import { type JobPage, listJobs, type ServerJob } from '../api/jobs';
import type { JobsRepository, JobSummary } from './store';

/** How many of the server's jobs the list shows (one page, the API's largest). */
export const SERVER_PAGE = 100;

/** A summary for a server job, filled in from this browser's record of it when there is one. */
export function summaryOfServerJob(job: ServerJob, local: JobSummary | undefined): JobSummary {
  return {
    id: job.id,
    // The server keeps the upload's name (cleaned: base name only); this browser's record names
    // jobs from servers older than that. A job with neither (an upload without a name) shows its id.
    fileName: job.filename ?? local?.fileName ?? job.id,
    fileType: local?.fileType ?? '',
    fileSize: local?.fileSize ?? 0,
    createdAt: local?.createdAt ?? job.created_at * 1000,
    status: job.status,
    duration: job.usage?.seconds ?? local?.duration ?? null,
    speakerCount: local?.speakerCount ?? null,
    error: job.error?.message ?? null,
    source: 'server',
    hasAudio: local?.hasAudio ?? false,
  };
}

/**
 * The server's page joined with this browser's records, newest first. A local record the server
 * does not list is kept only when it holds a finished transcript (the server may have deleted the
 * job after its retention time, or it belongs to another key): one still "running" here but gone
 * from the server would never finish.
 */
export function mergeJobs(server: JobPage, local: JobSummary[]): JobSummary[] {
  const byId = new Map(local.map((job) => [job.id, job]));
  const listed = new Set(server.data.map((job) => job.id));
  const merged = server.data.map((job) => summaryOfServerJob(job, byId.get(job.id)));
  for (const job of local) {
    if (!listed.has(job.id) && job.status === 'completed') merged.push({ ...job, source: 'local' });
  }
  return merged.sort((a, b) => b.createdAt - a.createdAt);
}

export interface RecentJobs {
  jobs: JobSummary[];
  /** Why the server's list could not be read (the list then holds this browser's jobs only). */
  serverError: ApiError | null;
}

/** Read both lists and join them; the server's failure leaves this browser's list. */
export async function loadRecentJobs(repo: JobsRepository, list: typeof listJobs = listJobs): Promise<RecentJobs> {
  const [local, server] = await Promise.all([
    repo.list().catch(() => [] as JobSummary[]),
    list({ limit: SERVER_PAGE }).then(
      (page) => ({ page, error: null }),
      (error: unknown) => ({ page: null, error: toApiError(error) }),
    ),
  ]);
  if (server.page) return { jobs: mergeJobs(server.page, local), serverError: null };
  return { jobs: local, serverError: server.error };
}
