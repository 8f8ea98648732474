import { useId } from 'react';
import { ChevronDownIcon, ChevronUpIcon, SearchIcon } from './icons';
import { cx, focusRing, inputClass } from './ui';

/** Search in the transcript: Enter for the next match, Shift+Enter for the previous one. */
export function SearchBar({
  query,
  onQuery,
  count,
  index,
  onStep,
}: {
  query: string;
  onQuery: (query: string) => void;
  count: number;
  index: number;
  onStep: (delta: 1 | -1) => void;
}) {
  const id = useId();
  const status = query.trim() ? (count ? `${index + 1} of ${count}` : 'No matches') : '';
  const arrow = cx(
    'rounded-md p-1.5 text-slate-600 hover:bg-slate-100 disabled:opacity-40 dark:text-slate-300 dark:hover:bg-slate-800',
    focusRing,
  );
  return (
    <div role="search" className="flex items-center gap-1.5">
      <label htmlFor={id} className="sr-only">
        Search the transcript
      </label>
      <div className="relative min-w-0 flex-1">
        <SearchIcon width={16} height={16} className="pointer-events-none absolute top-1/2 left-2.5 -translate-y-1/2 text-slate-400" />
        <input
          id={id}
          type="search"
          value={query}
          placeholder="Search the transcript"
          onChange={(event) => onQuery(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter') {
              event.preventDefault();
              onStep(event.shiftKey ? -1 : 1);
            }
          }}
          className={cx(inputClass, 'pl-8')}
        />
      </div>
      <span className="min-w-20 text-center text-xs text-slate-600 tabular-nums dark:text-slate-400" aria-live="polite" data-testid="search-status">
        {status}
      </span>
      <button type="button" className={arrow} onClick={() => onStep(-1)} disabled={count === 0} aria-label="Previous match">
        <ChevronUpIcon width={18} height={18} />
      </button>
      <button type="button" className={arrow} onClick={() => onStep(1)} disabled={count === 0} aria-label="Next match">
        <ChevronDownIcon width={18} height={18} />
      </button>
    </div>
  );
}
