import { forwardRef, useEffect, useState } from 'react';
import type { ApiError } from '../api/errors';
import { AlertIcon } from './icons';
import { Button } from './ui';

/** Whole seconds until `deadline` (ms since the epoch), ticking down to 0. */
function useCountdown(deadline: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (deadline === null) return;
    const timer = setInterval(() => {
      const time = Date.now();
      setNow(time);
      if (time >= deadline) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [deadline]);
  return deadline === null ? 0 : Math.max(0, Math.ceil((deadline - now) / 1000));
}

/** An error in plain words: what happened, the server's message, when to try again. */
export const ErrorAlert = forwardRef<HTMLDivElement, { error: ApiError; onRetry?: () => void; onDismiss?: () => void }>(
  function ErrorAlert({ error, onRetry, onDismiss }, ref) {
    const left = useCountdown(error.retryAt);
    const waiting = left > 0;
    return (
      <div
        ref={ref}
        role="alert"
        tabIndex={-1}
        className="rounded-xl border border-red-200 bg-red-50 p-4 text-red-900 outline-none dark:border-red-900 dark:bg-red-950/60 dark:text-red-100"
      >
        <div className="flex gap-3">
          <AlertIcon className="mt-0.5 shrink-0 text-red-600 dark:text-red-400" />
          <div className="min-w-0 flex-1">
            <p className="font-semibold">{error.title}</p>
            <p className="mt-1 text-sm break-words">{error.message}</p>
            {error.retryAfter !== null && (
              <p className="mt-1 text-sm" aria-live="off">
                {waiting ? `You can try again in ${left} s.` : 'You can try again now.'}
              </p>
            )}
            {(onRetry || onDismiss) && (
              <div className="mt-3 flex flex-wrap gap-2">
                {onRetry && error.retryable && (
                  <Button size="sm" variant="primary" onClick={onRetry} disabled={waiting}>
                    {waiting ? `Try again (${left} s)` : 'Try again'}
                  </Button>
                )}
                {onDismiss && (
                  <Button size="sm" onClick={onDismiss}>
                    Dismiss
                  </Button>
                )}
              </div>
            )}
          </div>
        </div>
      </div>
    );
  },
);
