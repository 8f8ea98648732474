import type { JobSummary } from '../jobs/store';
import { clock } from '../lib/time';
import { PlusIcon, TrashIcon } from './icons';
import { Button, cx, focusRing } from './ui';

const STATUS: Record<JobSummary['status'], string> = {
  queued: 'Queued',
  in_progress: 'Running',
  completed: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function when(timestamp: number): string {
  const date = new Date(timestamp);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: date.getFullYear() === today.getFullYear() ? undefined : 'numeric' });
}

/** Whether a job in the list can be opened: a transcript to read, or a job to follow. */
export function canOpen(job: JobSummary): boolean {
  return job.status === 'completed' || job.status === 'queued' || job.status === 'in_progress';
}

/**
 * Recent jobs, newest first (the server's for this key, joined with this browser's): reopen a
 * transcript, follow a running job, or delete one. `notice` says when only this browser's list
 * could be shown.
 */
export function RecentJobs({
  jobs,
  activeId,
  notice,
  onOpen,
  onDelete,
  onNew,
}: {
  jobs: JobSummary[] | null;
  activeId: string | null;
  notice?: string | null;
  onOpen: (id: string) => void;
  onDelete: (id: string) => void;
  onNew: () => void;
}) {
  return (
    <nav aria-labelledby="recent-heading" className="space-y-3">
      <div className="flex items-center justify-between gap-2">
        <h2 id="recent-heading" className="text-sm font-semibold tracking-wide text-slate-600 uppercase dark:text-slate-400">
          Recent
        </h2>
        <Button size="sm" variant="ghost" onClick={onNew}>
          <PlusIcon width={16} height={16} /> New
        </Button>
      </div>
      {notice && <p className="text-xs text-amber-800 dark:text-amber-300">{notice}</p>}
      {jobs === null ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">Loading…</p>
      ) : jobs.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">Your transcriptions on this server will appear here.</p>
      ) : (
        <ul className="space-y-1" aria-label="Recent transcriptions">
          {jobs.map((job) => (
            <li key={job.id} className="group flex items-stretch gap-1">
              <button
                type="button"
                onClick={() => onOpen(job.id)}
                aria-current={job.id === activeId ? 'true' : undefined}
                disabled={!canOpen(job)}
                data-status={job.status}
                className={cx(
                  'min-w-0 flex-1 rounded-lg px-3 py-2 text-left',
                  job.id === activeId ? 'bg-indigo-50 dark:bg-indigo-950/60' : 'hover:bg-slate-100 dark:hover:bg-slate-800/70',
                  focusRing,
                )}
              >
                <span className="block truncate text-sm font-medium">{job.fileName}</span>
                <span className="block text-xs text-slate-600 dark:text-slate-400">
                  {when(job.createdAt)}
                  {job.duration !== null && ` · ${clock(job.duration)}`}
                  {job.speakerCount ? ` · ${job.speakerCount} speaker${job.speakerCount > 1 ? 's' : ''}` : ''}
                  {job.status !== 'completed' && ` · ${STATUS[job.status]}`}
                </span>
                {job.status === 'failed' && job.error && (
                  <span className="mt-0.5 block truncate text-xs text-red-700 dark:text-red-300" title={job.error}>
                    {job.error}
                  </span>
                )}
              </button>
              <button
                type="button"
                onClick={() => onDelete(job.id)}
                aria-label={`Delete ${job.fileName}`}
                className={cx(
                  'rounded-lg px-2 text-slate-500 hover:bg-red-50 hover:text-red-700 dark:hover:bg-red-950 dark:hover:text-red-300',
                  focusRing,
                )}
              >
                <TrashIcon width={16} height={16} />
              </button>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
