import { useId, useState, type DragEvent } from 'react';
import { fileSize } from '../lib/time';
import { UploadIcon, WaveIcon } from './icons';
import { Button, cx } from './ui';

const ACCEPT = 'audio/*,video/*,.wav,.mp3,.flac,.m4a,.aac,.ogg,.oga,.opus,.webm,.mp4,.m4v,.mov,.mkv';

function looksLikeMedia(file: File): boolean {
  if (file.type.startsWith('audio/') || file.type.startsWith('video/')) return true;
  return /\.(wav|mp3|flac|m4a|aac|ogg|oga|opus|webm|mp4|m4v|mov|mkv|wma|amr|3gp)$/i.test(file.name);
}

/** Drop a recording, or choose one with the picker (a real file input, reachable by keyboard). */
export function Dropzone({ file, onFile, disabled }: { file: File | null; onFile: (file: File | null) => void; disabled?: boolean }) {
  const inputId = useId();
  const hintId = useId();
  const [over, setOver] = useState(false);

  const onDrop = (event: DragEvent): void => {
    event.preventDefault();
    setOver(false);
    if (disabled) return;
    const dropped = event.dataTransfer.files[0];
    if (dropped) onFile(dropped);
  };

  return (
    <div
      onDragOver={(event) => {
        event.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <input
        id={inputId}
        type="file"
        accept={ACCEPT}
        className="peer sr-only"
        aria-describedby={hintId}
        disabled={disabled}
        onChange={(event) => {
          const chosen = event.target.files?.[0] ?? null;
          if (chosen) onFile(chosen);
          event.target.value = '';
        }}
      />
      <label
        htmlFor={inputId}
        className={cx(
          'flex cursor-pointer flex-col items-center justify-center gap-2 rounded-xl border-2 border-dashed px-4 py-8 text-center transition-colors',
          'peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-indigo-600',
          over
            ? 'border-indigo-500 bg-indigo-50 dark:bg-indigo-950/40'
            : 'border-slate-300 hover:border-indigo-400 hover:bg-slate-50 dark:border-slate-700 dark:hover:border-indigo-500 dark:hover:bg-slate-800/50',
          disabled && 'cursor-not-allowed opacity-60',
        )}
      >
        <UploadIcon width={28} height={28} className="text-indigo-600 dark:text-indigo-400" />
        <span className="text-base font-medium">
          {file ? 'Choose another recording' : 'Drop a recording here, or '}
          {!file && <span className="text-indigo-700 underline underline-offset-2 dark:text-indigo-300">choose a file</span>}
        </span>
        <span id={hintId} className="text-sm text-slate-600 dark:text-slate-400">
          Audio or video: WAV, MP3, FLAC, M4A, OGG, WebM, MP4 and more
        </span>
      </label>
      {file && (
        <div className="mt-3 flex items-center gap-3 rounded-xl bg-slate-100 px-3 py-2.5 dark:bg-slate-800">
          <WaveIcon className="shrink-0 text-indigo-600 dark:text-indigo-400" />
          <div className="min-w-0 flex-1">
            <p className="truncate text-sm font-medium" data-testid="chosen-file">
              {file.name}
            </p>
            <p className="text-xs text-slate-600 dark:text-slate-400">
              {fileSize(file.size)}
              {file.type ? ` · ${file.type}` : ''}
            </p>
            {!looksLikeMedia(file) && (
              <p className="mt-1 text-xs text-amber-800 dark:text-amber-300">
                This does not look like an audio or video file; the server will say if it cannot read it.
              </p>
            )}
          </div>
          <Button size="sm" variant="ghost" onClick={() => onFile(null)} disabled={disabled}>
            Remove
          </Button>
        </div>
      )}
    </div>
  );
}
