/**
 * The jobs API's plain calls (`/v1/audio/jobs`): list, result, cancel, delete, through the
 * typed client. Submitting (upload progress) and following (the event stream) live in
 * `transcribe.ts` and `jobEvents.ts`.
 */
import { api, type Schemas, type Transcription, unwrap } from './client';
import { ApiError, type ErrorBody } from './errors';

/** A job as the server shows it. */
export type ServerJob = Schemas['JobOut'];
export type ServerJobStatus = ServerJob['status'];

export interface JobPage {
  data: ServerJob[];
  hasMore: boolean;
  lastId: string | null;
}

export const TERMINAL: ReadonlySet<ServerJobStatus> = new Set(['completed', 'failed', 'cancelled']);

export async function listJobs(params: { limit?: number; after?: string } = {}, signal?: AbortSignal): Promise<JobPage> {
  const body = await unwrap(api.GET('/v1/audio/jobs', { params: { query: params }, signal }));
  return { data: body.data, hasMore: body.has_more, lastId: body.last_id ?? null };
}

/** A completed job's transcript as verbose_json (words, segments, speakers, insights). */
export async function jobResult(id: string, signal?: AbortSignal): Promise<Transcription> {
  const body = await unwrap(
    api.GET('/v1/audio/jobs/{job_id}/result', { params: { path: { job_id: id }, query: { response_format: 'verbose_json' } }, signal }),
  );
  return body as Transcription;
}

export function cancelJob(id: string): Promise<ServerJob> {
  return unwrap(api.POST('/v1/audio/jobs/{job_id}/cancel', { params: { path: { job_id: id } } }));
}

export async function deleteJob(id: string): Promise<void> {
  await unwrap(api.DELETE('/v1/audio/jobs/{job_id}', { params: { path: { job_id: id } } }));
}

// A failed job carries its error in OpenAI's shape but no HTTP status: take the one the same
// error has when a request meets it directly (api/errors.py), so it reads the same in the app.
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  service_unavailable: 503,
  rate_limit_error: 429,
  cancelled: 499,
};
const STATUS_OF_CODE: Record<string, number> = { file_too_large: 413, not_found: 404 };

/** The error a failed job reports, as the ApiError the same failure would give a request. */
export function jobFailure(error: ErrorBody | null | undefined): ApiError {
  if (!error) return new ApiError(500, 'The job failed without saying why.', { kind: 'server' });
  const status = (error.code ? STATUS_OF_CODE[error.code] : undefined) ?? STATUS_OF_TYPE[error.type] ?? 500;
  return new ApiError(status, error.message, { type: error.type, code: error.code ?? null, param: error.param ?? null });
}
