import { useEffect, useRef, useState, type FormEvent } from 'react';
import { colorOf, displayName, speakerStyle, type SpeakerNames } from '../lib/speakers';
import { spokenDuration } from '../lib/time';
import { PencilIcon } from './icons';
import { Button, cx, focusRing, inputClass } from './ui';

function SpeakerRow({
  label,
  order,
  names,
  seconds,
  total,
  onRename,
}: {
  label: string;
  order: string[];
  names: SpeakerNames;
  seconds: number;
  total: number;
  onRename: (label: string, name: string) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  const name = displayName(label, names);
  const share = total > 0 ? Math.round((seconds / total) * 100) : null;

  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  const save = (event: FormEvent): void => {
    event.preventDefault();
    onRename(label, draft.trim());
    setEditing(false);
  };

  return (
    <li className="flex min-h-10 items-center gap-2.5" style={speakerStyle(colorOf(label, order))}>
      <span className="spk-bg size-3 shrink-0 rounded-full" aria-hidden="true" />
      {editing ? (
        <form onSubmit={save} className="flex min-w-0 flex-1 items-center gap-2">
          <label htmlFor={`rename-${label}`} className="sr-only">
            New name for {name}
          </label>
          <input
            id={`rename-${label}`}
            value={draft}
            autoFocus
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') {
                event.preventDefault();
                setEditing(false);
              }
            }}
            placeholder={label}
            className={cx(inputClass, 'py-1')}
          />
          <Button type="submit" size="sm" variant="primary">
            Save
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setEditing(false)}>
            Cancel
          </Button>
        </form>
      ) : (
        <>
          <span className="spk-text min-w-0 truncate font-semibold" data-testid="speaker-name">
            {name}
          </span>
          {name !== label && <span className="text-xs text-slate-500">{label}</span>}
          <span className="ml-auto shrink-0 text-xs text-slate-600 tabular-nums dark:text-slate-400" title={spokenDuration(seconds)}>
            {share !== null ? `${share}%` : ''}
          </span>
          <button
            ref={editButton}
            type="button"
            onClick={() => {
              setDraft(names[label] ?? '');
              setEditing(true);
            }}
            aria-label={`Rename ${name}`}
            className={cx('rounded-md p-1 text-slate-500 hover:bg-slate-100 hover:text-slate-900 dark:hover:bg-slate-800 dark:hover:text-white', focusRing)}
          >
            <PencilIcon width={16} height={16} />
          </button>
        </>
      )}
    </li>
  );
}

/** The speakers, each in its colour with its share of talk time; rename one and it changes everywhere. */
export function SpeakerLegend({
  order,
  names,
  talk,
  onRename,
}: {
  order: string[];
  names: SpeakerNames;
  talk: Map<string, number>;
  onRename: (label: string, name: string) => void;
}) {
  const total = [...talk.values()].reduce((a, b) => a + b, 0);
  if (order.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">No speakers were told apart.</p>;
  return (
    <ul aria-label="Speakers" className="space-y-1">
      {order.map((label) => (
        <SpeakerRow key={label} label={label} order={order} names={names} seconds={talk.get(label) ?? 0} total={total} onRename={onRename} />
      ))}
    </ul>
  );
}
