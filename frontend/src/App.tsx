import { useCallback, useEffect, useRef, useState } from 'react';
import type { Transcription } from './api/client';
import { type ApiError, toApiError } from './api/errors';
import { type Job, type JobProgress, type PartialSegment, type TranscribeOptions, type Transport, transport as defaultTransport } from './api/transcribe';
import { useServerInfo } from './api/useServerInfo';
import { Dropzone } from './components/Dropzone';
import { ErrorAlert } from './components/ErrorAlert';
import { WaveIcon } from './components/icons';
import { KeyLock } from './components/KeyLock';
import { OptionsPanel } from './components/OptionsPanel';
import { ProgressPanel } from './components/ProgressPanel';
import { RecentJobs } from './components/RecentJobs';
import { ResultView } from './components/ResultView';
import { ThemeToggle } from './components/ThemeToggle';
import { Button, Card } from './components/ui';
import { defaultRepository, type JobRecord, type JobsRepository, type JobSummary } from './jobs/store';
import { loadOptions, optionsProblem, saveOptions } from './lib/options';
import type { SpeakerNames } from './lib/speakers';
import { useTheme } from './lib/theme';

interface Running {
  job: Job;
  fileName: string;
  progress: JobProgress;
  partial: PartialSegment[];
  startedAt: number;
}

type View = { kind: 'new' } | { kind: 'result'; record: JobRecord; audio: Blob | undefined };

const defaultRepo = defaultRepository();

function recordOf(id: string, file: File, options: TranscribeOptions, startedAt: number, result: Transcription): JobRecord {
  const { knownSpeakers, ...rest } = options;
  const speakers = new Set([...(result.speakers ?? []), ...result.segments.map((s) => s.speaker).filter(Boolean)]);
  return {
    id,
    fileName: file.name,
    fileType: file.type,
    fileSize: file.size,
    createdAt: startedAt,
    status: 'completed',
    duration: result.duration,
    speakerCount: speakers.size || null,
    error: null,
    source: 'local',
    hasAudio: true,
    options: { ...rest, knownSpeakerNames: knownSpeakers.map((k) => k.name) },
    result,
    speakerNames: {},
  };
}

export function App({ repo = defaultRepo, transport = defaultTransport }: { repo?: JobsRepository; transport?: Transport }) {
  const [theme, setTheme] = useTheme();
  const server = useServerInfo();
  const [options, setOptions] = useState<TranscribeOptions>(loadOptions);
  const [file, setFile] = useState<File | null>(null);
  const [running, setRunning] = useState<Running | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const [view, setView] = useState<View>({ kind: 'new' });
  const [recent, setRecent] = useState<JobSummary[] | null>(null);
  const progressHeading = useRef<HTMLHeadingElement>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const newHeading = useRef<HTMLHeadingElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);
  const focusNext = useRef<'progress' | 'result' | 'new' | 'error' | null>(null);

  const refresh = useCallback(() => {
    repo
      .list()
      .then(setRecent)
      .catch(() => setRecent([]));
  }, [repo]);
  useEffect(refresh, [refresh]);

  // Move focus to what just appeared, so keyboard and screen reader users follow the flow.
  useEffect(() => {
    const target = focusNext.current;
    focusNext.current = null;
    const element = { progress: progressHeading, result: resultHeading, new: newHeading, error: errorRef }[target ?? 'new'].current;
    if (target) element?.focus();
  });

  // Leaving the page would lose a running upload.
  useEffect(() => {
    if (!running) return;
    const warn = (event: BeforeUnloadEvent): void => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [running]);

  const changeOptions = (patch: Partial<TranscribeOptions>): void => {
    setProblem(null);
    setOptions((current) => ({ ...current, ...patch }));
  };

  const start = (): void => {
    if (!file || running) return;
    const wrong = optionsProblem(options);
    if (wrong) {
      setProblem(wrong);
      return;
    }
    saveOptions(options);
    const offered = server.textRules?.map((r) => r.id);
    const sent = { ...options, textRules: offered ? options.textRules.filter((r) => offered.includes(r)) : options.textRules };
    setError(null);
    setNotice('');
    const startedAt = Date.now();
    let serverId: string | null = null; // the server's name for the job, once it gives one
    const job = transport.submit(file, sent, (event) => {
      if (event.type === 'accepted') {
        serverId = event.jobId;
        return;
      }
      setRunning((current) => {
        if (!current || current.job !== job) return current;
        if (event.type === 'progress') return { ...current, progress: event.progress };
        return { ...current, partial: [...current.partial, event.segment] };
      });
    });
    setRunning({ job, fileName: file.name, progress: { stage: 'uploading', fraction: 0 }, partial: [], startedAt });
    focusNext.current = 'progress';
    job.result.then(
      async (result) => {
        const record = recordOf(serverId ?? job.id, file, sent, startedAt, result);
        try {
          await repo.put(record, file);
        } catch {
          // The transcript is shown even when this browser cannot keep it.
        }
        setRunning(null);
        setFile(null);
        setView({ kind: 'result', record, audio: file });
        setNotice(`Transcript of ${file.name} is ready.`);
        focusNext.current = 'result';
        refresh();
      },
      (reason: unknown) => {
        const failure = toApiError(reason);
        setRunning(null);
        if (failure.kind === 'cancelled') {
          setNotice('Transcription cancelled.');
          focusNext.current = 'new';
        } else {
          setError(failure);
          focusNext.current = 'error';
        }
      },
    );
  };

  const open = async (id: string): Promise<void> => {
    const record = await repo.get(id);
    if (!record) {
      refresh();
      return;
    }
    const audio = record.hasAudio ? await repo.audio(id) : undefined;
    setView({ kind: 'result', record, audio });
    focusNext.current = 'result';
  };

  const remove = async (id: string): Promise<void> => {
    await repo.remove(id);
    if (view.kind === 'result' && view.record.id === id) setView({ kind: 'new' });
    setNotice('Transcript deleted.');
    refresh();
  };

  const rename = useCallback(
    (names: SpeakerNames) => {
      if (view.kind !== 'result') return;
      const id = view.record.id;
      setView((current) => (current.kind === 'result' && current.record.id === id ? { ...current, record: { ...current.record, speakerNames: { ...names } } } : current));
      void repo.update(id, { speakerNames: { ...names } }).catch(() => undefined);
    },
    [repo, view],
  );

  const attachAudio = (audio: File): void => {
    if (view.kind !== 'result') return;
    const record = { ...view.record, hasAudio: true };
    setView({ kind: 'result', record, audio });
    void repo.put(record, audio).then(refresh, () => undefined);
  };

  const newTranscription = (): void => {
    setView({ kind: 'new' });
    focusNext.current = 'new';
  };

  const activeId = view.kind === 'result' ? view.record.id : null;

  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50 focus:rounded-lg focus:bg-white focus:px-3 focus:py-2 focus:shadow dark:focus:bg-slate-800"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <div className="mx-auto flex max-w-7xl items-center gap-3 px-4 py-3">
          <h1 className="flex items-center gap-2 text-lg font-semibold">
            <span className="grid size-8 place-items-center rounded-lg bg-indigo-600 text-white" aria-hidden="true">
              <WaveIcon width={18} height={18} />
            </span>
            Scribe
          </h1>
          <p className="hidden text-sm text-slate-600 sm:block dark:text-slate-400">Transcripts with speakers, on your own server</p>
          <div className="ml-auto flex items-center gap-2">
            <ThemeToggle theme={theme} onChange={setTheme} />
            <KeyLock />
          </div>
        </div>
      </header>

      <p className="sr-only" role="status" aria-live="polite">
        {notice}
      </p>

      <div className="mx-auto grid max-w-7xl gap-6 px-4 py-6 lg:grid-cols-[16rem_minmax(0,1fr)]">
        <main id="main" className="min-w-0 lg:col-start-2 lg:row-start-1">
          {view.kind === 'result' ? (
            <ResultView
              key={view.record.id}
              ref={resultHeading}
              record={view.record}
              audio={view.audio}
              onRename={rename}
              onAttachAudio={attachAudio}
              onNew={newTranscription}
            />
          ) : running ? (
            <ProgressPanel
              ref={progressHeading}
              fileName={running.fileName}
              progress={running.progress}
              startedAt={running.startedAt}
              partial={running.partial}
              onCancel={() => running.job.cancel()}
            />
          ) : (
            <Card aria-labelledby="new-heading" className="space-y-5">
              <div>
                <h2 id="new-heading" ref={newHeading} tabIndex={-1} className="text-xl font-semibold outline-none">
                  New transcription
                </h2>
                <p className="text-sm text-slate-600 dark:text-slate-400">Who spoke, when, and what they said. The recording is processed on this server.</p>
              </div>
              <Dropzone file={file} onFile={(f) => { setFile(f); setError(null); }} />
              {server.error && server.error.kind !== 'unauthorized' && (
                <p className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950/60 dark:text-amber-200">
                  Could not ask the server for its models: {server.error.message}
                </p>
              )}
              <OptionsPanel options={options} onChange={changeOptions} models={server.models} textRules={server.textRules} />
              {error && <ErrorAlert ref={errorRef} error={error} onRetry={start} onDismiss={() => setError(null)} />}
              {problem && (
                <p role="alert" className="text-sm font-medium text-red-700 dark:text-red-300">
                  {problem}
                </p>
              )}
              <div className="flex flex-wrap items-center gap-3">
                <Button variant="primary" onClick={start} disabled={!file} className="px-5 py-2.5 text-base">
                  Transcribe
                </Button>
                {!file && <p className="text-sm text-slate-600 dark:text-slate-400">Choose a recording first.</p>}
              </div>
            </Card>
          )}
        </main>
        <div className="min-w-0 lg:col-start-1 lg:row-start-1">
          <RecentJobs jobs={recent} activeId={activeId} onOpen={(id) => void open(id)} onDelete={(id) => void remove(id)} onNew={newTranscription} />
        </div>
      </div>

      <footer className="mx-auto max-w-7xl px-4 pb-8 text-sm text-slate-600 dark:text-slate-400">
        OpenAI-compatible API at <code className="rounded bg-slate-200/70 px-1 dark:bg-slate-800">/v1/audio/transcriptions</code> ·{' '}
        <a href="/docs" className="underline underline-offset-2 hover:text-indigo-700 dark:hover:text-indigo-300">
          API docs
        </a>
      </footer>
    </div>
  );
}
