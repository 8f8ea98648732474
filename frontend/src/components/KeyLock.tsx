import { useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { keyStore } from '../auth/keyStore';
import { LockIcon, UnlockIcon } from './icons';
import { Modal } from './Modal';
import { Button, cx, focusRing, inputClass } from './ui';

/** The key lock in the header: enter the API key once; a 401 opens it again with the reason. */
export function KeyLock() {
  const { key, prompt } = useSyncExternalStore(keyStore.subscribe, keyStore.getState);
  const [openedByUser, setOpenedByUser] = useState(false);
  const [draft, setDraft] = useState('');
  const [shown, setShown] = useState(false);
  const inputId = useId();
  const helpId = useId();
  const open = openedByUser || prompt !== null;

  const openLock = (): void => {
    setDraft(key ?? '');
    setShown(false);
    setOpenedByUser(true);
  };
  const close = (): void => {
    setOpenedByUser(false);
    keyStore.dismissPrompt();
  };
  const save = (event: FormEvent): void => {
    event.preventDefault();
    keyStore.setKey(draft);
    setOpenedByUser(false);
  };
  const remove = (): void => {
    keyStore.clearKey();
    setDraft('');
    setOpenedByUser(false);
  };

  return (
    <>
      <button
        type="button"
        onClick={openLock}
        aria-haspopup="dialog"
        className={cx(
          'inline-flex items-center gap-1.5 rounded-lg px-2.5 py-1.5 text-sm font-medium ring-1 ring-inset',
          key
            ? 'text-emerald-800 ring-emerald-300 hover:bg-emerald-50 dark:text-emerald-300 dark:ring-emerald-800 dark:hover:bg-emerald-950'
            : 'text-slate-700 ring-slate-300 hover:bg-slate-100 dark:text-slate-200 dark:ring-slate-700 dark:hover:bg-slate-800',
          prompt !== null && 'text-red-700 ring-red-400 dark:text-red-300 dark:ring-red-700',
          focusRing,
        )}
      >
        {key ? <LockIcon /> : <UnlockIcon />}
        <span>{key ? 'Key set' : 'API key'}</span>
      </button>
      <Modal open={open} onClose={close} title="API key">
        <form onSubmit={save} className="space-y-4">
          {prompt !== null && (
            <p role="alert" className="rounded-lg bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
              {prompt}
            </p>
          )}
          <div>
            <label htmlFor={inputId} className="mb-1 block text-sm font-medium">
              Key
            </label>
            <div className="flex gap-2">
              <input
                id={inputId}
                type={shown ? 'text' : 'password'}
                value={draft}
                onChange={(event) => setDraft(event.target.value)}
                autoComplete="off"
                spellCheck={false}
                data-autofocus
                aria-describedby={helpId}
                placeholder="sk-..."
                className={inputClass}
              />
              <Button size="sm" onClick={() => setShown((s) => !s)} aria-pressed={shown}>
                {shown ? 'Hide' : 'Show'}
              </Button>
            </div>
            <p id={helpId} className="mt-1.5 text-sm text-slate-600 dark:text-slate-400">
              Kept in this browser only, and sent with every request as a bearer token. Servers without keys ignore it.
            </p>
          </div>
          <div className="flex flex-wrap justify-end gap-2">
            {key && (
              <Button variant="danger" onClick={remove}>
                Remove key
              </Button>
            )}
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" variant="primary">
              Save key
            </Button>
          </div>
        </form>
      </Modal>
    </>
  );
}
