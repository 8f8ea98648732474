import { forwardRef, useCallback, useEffect, useMemo, useState } from 'react';
import type { JobRecord } from '../jobs/store';
import { languageName } from '../lib/clips';
import { type SpeakerNames } from '../lib/speakers';
import { clock, spokenDuration } from '../lib/time';
import { buildModel, search, talkTime } from '../lib/transcript';
import { usePlayback } from '../lib/usePlayback';
import { ExportBar } from './ExportBar';
import { SearchBar } from './SearchBar';
import { SpeakerLegend } from './SpeakerLegend';
import { entityClass, entityName, SentimentBadge, TranscriptText } from './TranscriptText';
import { Button, Card, cx, focusRing } from './ui';

function useObjectUrl(blob: Blob | undefined): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    // An object URL is an external resource: made here, revoked on cleanup.
    /* eslint-disable react-hooks/set-state-in-effect */
    if (!blob) {
      setUrl(null);
      return;
    }
    const created = URL.createObjectURL(blob);
    setUrl(created);
    /* eslint-enable react-hooks/set-state-in-effect */
    return () => URL.revokeObjectURL(created);
  }, [blob]);
  return url;
}

function scrollIntoViewIfNeeded(element: Element | null): void {
  if (!element || typeof element.scrollIntoView !== 'function') return;
  const rect = element.getBoundingClientRect();
  const top = 160; // below the sticky player
  if (rect.top < top || rect.bottom > window.innerHeight) element.scrollIntoView({ block: 'center', behavior: 'smooth' });
}

/** A finished transcript: the player in sync with the text, speakers, insights, search, exports. */
export const ResultView = forwardRef<
  HTMLHeadingElement,
  {
    record: JobRecord;
    audio: Blob | undefined;
    onRename: (names: SpeakerNames) => void;
    onAttachAudio: (file: File) => void;
    onNew: () => void;
  }
>(function ResultView({ record, audio, onRename, onAttachAudio, onNew }, headingRef) {
  const result = record.result;
  const model = useMemo(() => (result ? buildModel(result) : null), [result]);
  const [names, setNames] = useState<SpeakerNames>(record.speakerNames);
  const [media, setMedia] = useState<HTMLMediaElement | null>(null);
  const url = useObjectUrl(audio);
  const words = model?.words ?? [];
  const { active, playing, seek } = usePlayback(media, words);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [matchIndex, setMatchIndex] = useState(0);

  const matches = useMemo(() => (model ? search(model, query) : []), [model, query]);
  const matchesByBlock = useMemo(() => {
    const map = new Map<number, Set<number>>();
    for (const m of matches) {
      const set = map.get(m.block) ?? new Set<number>();
      for (const w of m.words) set.add(w);
      map.set(m.block, set);
    }
    return map;
  }, [matches]);
  const currentMatch = matches[Math.min(matchIndex, matches.length - 1)];
  const current = useMemo(() => (currentMatch ? { block: currentMatch.block, words: new Set(currentMatch.words) } : null), [currentMatch]);
  const talk = useMemo(() => (model ? talkTime(model) : new Map<string, number>()), [model]);

  useEffect(() => {
    document.title = `${record.fileName} · Scribe`;
    return () => {
      document.title = 'Scribe';
    };
  }, [record.fileName]);

  // Keep the spoken block in view while playing (unless the person turned that off).
  const activeBlock = active >= 0 ? (model?.words[active]?.block ?? -1) : -1;
  useEffect(() => {
    if (playing && follow && activeBlock >= 0) scrollIntoViewIfNeeded(document.getElementById(`block-${activeBlock}`));
  }, [activeBlock, playing, follow]);

  useEffect(() => {
    const first = current ? Math.min(...current.words) : -1;
    if (first >= 0) scrollIntoViewIfNeeded(document.querySelector(`[data-word="${first}"]`));
  }, [current]);

  const rename = useCallback(
    (label: string, name: string) => {
      const next = { ...names };
      if (name) next[label] = name;
      else delete next[label];
      setNames(next);
      onRename(next);
    },
    [names, onRename],
  );
  const step = (delta: 1 | -1): void => {
    if (matches.length === 0) return;
    setMatchIndex((i) => (Math.min(i, matches.length - 1) + delta + matches.length) % matches.length);
  };
  const playFrom = useCallback((seconds: number) => seek(seconds, true), [seek]);

  if (!result || !model) {
    return (
      <Card>
        <h2 ref={headingRef} tabIndex={-1} className="text-lg font-semibold outline-none">
          {record.fileName}
        </h2>
        <p className="mt-2 text-slate-600 dark:text-slate-400">This job has no transcript{record.error ? `: ${record.error}` : '.'}</p>
      </Card>
    );
  }

  const isVideo = record.fileType.startsWith('video/');
  const entityLabels = [...new Set(model.entities.map((e) => e.label))];
  const facts = [
    spokenDuration(model.duration),
    model.language ? languageName(model.language) : null,
    model.speakers.length ? `${model.speakers.length} speaker${model.speakers.length > 1 ? 's' : ''}` : null,
    new Date(record.createdAt).toLocaleString(),
  ].filter(Boolean);

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 ref={headingRef} tabIndex={-1} className="truncate text-xl font-semibold outline-none" data-testid="result-title">
            {record.fileName}
          </h2>
          <p className="text-sm text-slate-600 dark:text-slate-400">{facts.join(' · ')}</p>
        </div>
        <Button variant="primary" onClick={onNew}>
          New transcription
        </Button>
      </div>

      <div className="sticky top-0 z-10 -mx-4 bg-slate-50/95 px-4 py-2 backdrop-blur sm:mx-0 sm:rounded-2xl sm:px-0 dark:bg-slate-950/95">
        {url ? (
          isVideo ? (
            <video ref={setMedia} src={url} controls preload="metadata" className="max-h-[40vh] w-full rounded-xl bg-black" aria-label={`Recording: ${record.fileName}`} />
          ) : (
            <audio ref={setMedia} src={url} controls preload="metadata" className="w-full" aria-label={`Recording: ${record.fileName}`} />
          )
        ) : (
          <div className="rounded-xl bg-white p-3 text-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
            <label htmlFor="attach-audio" className="font-medium">
              The recording is not stored in this browser. Open it to play along:
            </label>
            <input
              id="attach-audio"
              type="file"
              accept="audio/*,video/*"
              onChange={(event) => {
                const file = event.target.files?.[0];
                if (file) onAttachAudio(file);
              }}
              className={cx('mt-2 block w-full text-sm', focusRing)}
            />
          </div>
        )}
      </div>

      <div className="grid gap-4 lg:grid-cols-[1fr_17rem]">
        <Card className="order-2 lg:order-1" aria-label="Transcript">
          <div className="mb-4 flex flex-col gap-3 border-b border-slate-200 pb-4 sm:flex-row sm:items-center sm:justify-between dark:border-slate-800">
            <div className="sm:w-96">
              <SearchBar query={query} onQuery={(q) => { setQuery(q); setMatchIndex(0); }} count={matches.length} index={Math.min(matchIndex, Math.max(0, matches.length - 1))} onStep={step} />
            </div>
            <label className="inline-flex items-center gap-2 text-sm">
              <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} className="size-4 accent-indigo-600" />
              Follow playback
            </label>
          </div>
          <TranscriptText model={model} names={names} active={active} matchesByBlock={matchesByBlock} current={current} onSeek={seek} onPlayFrom={playFrom} />
        </Card>

        <aside className="order-1 space-y-4 lg:order-2" aria-label="Speakers, insights and export">
          <Card className="!p-4">
            <h3 className="mb-2 text-sm font-semibold">Speakers</h3>
            <SpeakerLegend order={model.speakers} names={names} talk={talk} onRename={rename} />
          </Card>
          {(model.overall || model.entities.length > 0) && (
            <Card className="!p-4">
              <h3 className="mb-2 text-sm font-semibold">Insights</h3>
              {model.overall && (
                <p className="mb-3 flex items-center gap-2 text-sm">
                  Overall <SentimentBadge label={model.overall.label} score={model.overall.score} />
                </p>
              )}
              {entityLabels.map((label) => (
                <div key={label} className="mb-2">
                  <p className="text-xs font-semibold tracking-wide text-slate-600 uppercase dark:text-slate-400">{entityName(label)}</p>
                  <ul className="mt-1 flex flex-wrap gap-1.5" aria-label={entityName(label)}>
                    {model.entities
                      .filter((e) => e.label === label)
                      .map((e, i) => (
                        <li key={`${e.start}-${i}`}>
                          <button
                            type="button"
                            onClick={() => seek(e.start)}
                            className={cx('rounded text-sm hover:text-indigo-700 dark:hover:text-indigo-300', entityClass(e), focusRing)}
                            aria-label={`${e.text}, at ${clock(e.start)}`}
                          >
                            {e.text}
                          </button>
                        </li>
                      ))}
                  </ul>
                </div>
              ))}
            </Card>
          )}
          <Card className="!p-4">
            <ExportBar result={result} model={model} names={names} info={{ title: record.fileName, createdAt: record.createdAt }} />
          </Card>
        </aside>
      </div>
    </div>
  );
});
