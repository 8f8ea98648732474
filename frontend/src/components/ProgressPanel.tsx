import { forwardRef, useEffect, useState } from 'react';
import type { JobProgress, PartialSegment } from '../api/transcribe';
import { clock, fileSize } from '../lib/time';
import { Button, Card } from './ui';

const STAGES: Record<string, string> = {
  uploading: 'Uploading',
  queued: 'Waiting for a free worker',
  decoding: 'Reading the audio',
  transcribing: 'Transcribing and finding speakers',
  diarizing: 'Finding speakers',
  attributing: 'Matching words to speakers',
  post_processing: 'Adding paragraphs and insights',
  done: 'Done',
};

export function stageLabel(stage: string): string {
  return STAGES[stage] ?? stage.replace(/_/g, ' ');
}

function useElapsed(since: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return Math.max(0, (now - since) / 1000);
}

/** The running job: stage, a progress bar (indeterminate when the server cannot say), cancel. */
export const ProgressPanel = forwardRef<
  HTMLHeadingElement,
  {
    fileName: string;
    progress: JobProgress;
    startedAt: number;
    partial: PartialSegment[];
    reconnecting?: boolean;
    /** Cancel was asked for; the job stops at its next safe point. */
    cancelling?: boolean;
    onCancel: () => void;
  }
>(function ProgressPanel({ fileName, progress, startedAt, partial, reconnecting = false, cancelling = false, onCancel }, headingRef) {
  const elapsed = useElapsed(startedAt);
  const percent = progress.fraction === null ? null : Math.round(progress.fraction * 100);
  const label = stageLabel(progress.stage);
  // Announce the stage, and the upload in quarter steps: not every percent.
  const announced = percent === null ? label : `${label}, ${Math.floor(percent / 25) * 25} percent`;
  return (
    <Card aria-labelledby="progress-heading">
      <h2 id="progress-heading" ref={headingRef} tabIndex={-1} className="truncate text-lg font-semibold outline-none">
        Transcribing {fileName}
      </h2>
      <div className="mt-4 flex items-baseline justify-between gap-4 text-sm">
        <p className="font-medium" data-testid="job-stage">
          {label}
          {percent !== null && ` · ${percent}%`}
        </p>
        <p className="text-slate-600 tabular-nums dark:text-slate-400">{clock(elapsed)}</p>
      </div>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-valuetext={percent === null ? `${label}, working` : `${percent}%`}
        className="mt-2 h-2.5 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
      >
        {percent === null ? (
          <div className="h-full w-2/5 animate-indeterminate rounded-full bg-indigo-600 dark:bg-indigo-400" />
        ) : (
          <div className="h-full rounded-full bg-indigo-600 transition-[width] dark:bg-indigo-400" style={{ width: `${percent}%` }} />
        )}
      </div>
      {progress.stage === 'uploading' && progress.total ? (
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
          {fileSize(progress.loaded ?? 0)} of {fileSize(progress.total)}
        </p>
      ) : null}
      {reconnecting && (
        <p className="mt-2 text-sm text-amber-800 dark:text-amber-300" data-testid="reconnecting">
          The connection dropped; reconnecting. The job goes on on the server.
        </p>
      )}
      <p className="sr-only" aria-live="polite">
        {reconnecting ? 'Connection lost, reconnecting' : announced}
      </p>
      {partial.length > 0 && (
        <div className="mt-4 max-h-40 overflow-y-auto rounded-lg bg-slate-50 p-3 text-sm text-slate-700 dark:bg-slate-800/60 dark:text-slate-300">
          {partial.map((s, i) => (
            <p key={i} data-testid="partial-segment">
              <span className="mr-2 text-slate-500 tabular-nums">{clock(s.start)}</span>
              {s.text}
            </p>
          ))}
        </div>
      )}
      <div className="mt-5 flex flex-wrap items-center gap-3">
        <Button variant="danger" onClick={onCancel} disabled={cancelling}>
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </Button>
        {cancelling && (
          <p className="text-sm text-slate-600 dark:text-slate-400" role="status">
            The server stops the job at its next safe point.
          </p>
        )}
      </div>
    </Card>
  );
});
