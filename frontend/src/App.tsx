import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Transcription } from './api/client';
import { type ApiError, toApiError } from './api/errors';
import { deleteJob, jobResult } from './api/jobs';
import { type Job, type JobEvent, type JobProgress, type PartialSegment, type TranscribeOptions, type Transport, transport as defaultTransport } from './api/transcribe';
import { useServerInfo } from './api/useServerInfo';
import { keyStore } from './auth/keyStore';
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
import { activeJobId, forgetActiveJob, rememberActiveJob } from './jobs/active';
import { loadRecentJobs } from './jobs/recent';
import { defaultRepository, type JobRecord, type JobsRepository, type JobSummary } from './jobs/store';
import { loadOptions, optionsProblem, saveOptions } from './lib/options';
import type { SpeakerNames } from './lib/speakers';
import { useTheme } from './lib/theme';

interface Running {
  job: Job;
  /** The server's id, once it has accepted the upload. */
  serverId: string | null;
  fileName: string;
  progress: JobProgress;
  partial: PartialSegment[];
  startedAt: number;
  /** The event stream dropped and is being resumed. */
  reconnecting: boolean;
  cancelling: boolean;
}

type View = { kind: 'new' } | { kind: 'result'; record: JobRecord; audio: Blob | undefined };

/** What the page knows of a job besides its result: kept with it in this browser. */
type JobMeta = Pick<JobRecord, 'fileName' | 'fileType' | 'fileSize' | 'createdAt' | 'options'>;

const defaultRepo = defaultRepository();

function speakerCount(result: Transcription): number | null {
  const speakers = new Set([...(result.speakers ?? []), ...result.segments.map((s) => s.speaker).filter(Boolean)]);
  return speakers.size || null;
}

function recordOf(id: string, meta: JobMeta, result: Transcription | null, status: JobRecord['status'] = 'completed'): JobRecord {
  return {
    ...meta,
    id,
    status,
    duration: result?.duration ?? null,
    speakerCount: result ? speakerCount(result) : null,
    error: null,
    source: 'server',
    hasAudio: false,
    result,
    speakerNames: {},
  };
}

function metaOfFile(file: File, options: TranscribeOptions, createdAt: number): JobMeta {
  const { knownSpeakers, ...rest } = options;
  return {
    fileName: file.name,
    fileType: file.type,
    fileSize: file.size,
    createdAt,
    options: { ...rest, knownSpeakerNames: knownSpeakers.map((k) => k.name) },
  };
}

function metaOfSummary(summary: JobSummary | undefined, id: string): JobMeta {
  return {
    fileName: summary?.fileName ?? id,
    fileType: summary?.fileType ?? '',
    fileSize: summary?.fileSize ?? 0,
    createdAt: summary?.createdAt ?? Date.now(),
    options: null,
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
  const [recentNotice, setRecentNotice] = useState<string | null>(null);
  const progressHeading = useRef<HTMLHeadingElement>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const newHeading = useRef<HTMLHeadingElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);
  const focusNext = useRef<'progress' | 'result' | 'new' | 'error' | null>(null);
  const runningRef = useRef<Running | null>(null);
  useEffect(() => {
    runningRef.current = running;
  });

  const refresh = useCallback(() => {
    loadRecentJobs(repo).then(
      ({ jobs, serverError }) => {
        setRecent(jobs);
        setRecentNotice(
          serverError && serverError.kind !== 'unauthorized' ? `Showing this browser's transcripts only: ${serverError.message}` : null,
        );
      },
      () => setRecent([]),
    );
  }, [repo]);
  // The server lists the jobs of the key in use: ask again when it changes.
  const key = useSyncExternalStore(keyStore.subscribe, keyStore.getKey);
  useEffect(refresh, [refresh, key]);

  // Move focus to what just appeared, so keyboard and screen reader users follow the flow.
  useEffect(() => {
    const target = focusNext.current;
    focusNext.current = null;
    const element = { progress: progressHeading, result: resultHeading, new: newHeading, error: errorRef }[target ?? 'new'].current;
    if (target) element?.focus();
  });

  // Leaving the page during the upload would lose it (a job on the server is followed again).
  const uploading = running !== null && running.serverId === null;
  useEffect(() => {
    if (!uploading) return;
    const warn = (event: BeforeUnloadEvent): void => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [uploading]);

  /**
   * Show a job's progress until it ends, then its transcript (kept in this browser with `audio`)
   * or its error. `knownId` is the server's id when the job is already there (a resumed one).
   */
  const track = (makeJob: (onEvent: (event: JobEvent) => void) => Job, meta: JobMeta, audio: Blob | undefined, knownId: string | null): void => {
    let serverId = knownId;
    let createdAt = meta.createdAt;
    let listedRunning = false;
    let job: Job | null = null;
    const update = (change: (current: Running) => Running): void =>
      setRunning((current) => (current && current.job === job ? change(current) : current));
    const onEvent = (event: JobEvent): void => {
      switch (event.type) {
        case 'accepted':
          serverId = event.jobId;
          createdAt = event.createdAt;
          rememberActiveJob(event.jobId);
          update((current) => ({ ...current, serverId: event.jobId }));
          // Kept at once, so a reload finds its name and recording while it runs.
          void repo.put(recordOf(event.jobId, { ...meta, createdAt }, null, 'queued'), audio).then(refresh, () => undefined);
          break;
        case 'progress':
          update((current) => ({ ...current, progress: event.progress, reconnecting: false }));
          // Once the server has started the job, the list shows it running.
          if (serverId && !listedRunning && event.progress.stage !== 'uploading' && event.progress.stage !== 'queued') {
            listedRunning = true;
            refresh();
          }
          break;
        case 'segment':
          update((current) => ({ ...current, partial: [...current.partial, event.segment], reconnecting: false }));
          break;
        case 'reconnecting':
          update((current) => ({ ...current, reconnecting: true }));
          break;
      }
    };
    job = makeJob(onEvent);
    const started = job;
    setRunning({
      job: started,
      serverId,
      fileName: meta.fileName,
      progress: knownId ? { stage: 'queued', fraction: null } : { stage: 'uploading', fraction: 0 },
      partial: [],
      startedAt: meta.createdAt,
      reconnecting: false,
      cancelling: false,
    });
    focusNext.current = 'progress';
    const stillShown = (): boolean => runningRef.current?.job === started;
    started.result.then(
      async (result) => {
        const id = serverId ?? started.id;
        forgetActiveJob(id);
        const kept = await repo.get(id).catch(() => undefined);
        const record = { ...recordOf(id, { ...meta, createdAt }, result), speakerNames: kept?.speakerNames ?? {} };
        try {
          await repo.put(record, audio);
        } catch {
          // The transcript is shown even when this browser cannot keep it.
        }
        refresh();
        if (!stillShown()) return;
        setRunning(null);
        setFile(null);
        setView({ kind: 'result', record: { ...record, hasAudio: Boolean(audio) }, audio });
        setNotice(`Transcript of ${meta.fileName} is ready.`);
        focusNext.current = 'result';
      },
      (reason: unknown) => {
        const failure = toApiError(reason);
        if (serverId) {
          // A job that ended on the server (cancelled, failed) is no longer followed; one whose
          // stream was lost goes on there and is followed again after a reload.
          if (failure.kind !== 'network') forgetActiveJob(serverId);
          void repo
            .update(serverId, { status: failure.kind === 'cancelled' ? 'cancelled' : 'failed', error: failure.message })
            .catch(() => undefined);
        }
        refresh();
        if (!stillShown()) return;
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

  // A job still running when the page was (re)loaded is followed again.
  const resumed = useRef(false);
  useEffect(() => {
    if (resumed.current) return;
    resumed.current = true;
    const id = activeJobId();
    if (!id) return;
    void (async () => {
      const record = await repo.get(id).catch(() => undefined);
      const audio = record?.hasAudio ? await repo.audio(id).catch(() => undefined) : undefined;
      track((onEvent) => transport.follow(id, onEvent), record ?? metaOfSummary(undefined, id), audio, id);
    })();
    // Once, on the first render: `track` and the repository are those of that render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

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
    const chosen = file;
    track((onEvent) => transport.submit(chosen, sent, onEvent), metaOfFile(chosen, sent, Date.now()), chosen, null);
  };

  const open = async (id: string): Promise<void> => {
    const summary = recent?.find((job) => job.id === id);
    if (summary && (summary.status === 'queued' || summary.status === 'in_progress')) {
      if (running) {
        if (running.serverId !== id) setNotice('Another transcription is being followed; open this one when it has finished.');
        return;
      }
      const record = await repo.get(id).catch(() => undefined);
      const audio = record?.hasAudio ? await repo.audio(id).catch(() => undefined) : undefined;
      setView({ kind: 'new' });
      rememberActiveJob(id);
      track((onEvent) => transport.follow(id, onEvent), record ?? metaOfSummary(summary, id), audio, id);
      return;
    }
    const record = await repo.get(id).catch(() => undefined);
    const audio = record?.hasAudio ? await repo.audio(id).catch(() => undefined) : undefined;
    if (record?.result) {
      setView({ kind: 'result', record, audio });
      focusNext.current = 'result';
      return;
    }
    if (!summary || summary.source !== 'server') {
      refresh();
      return;
    }
    // Finished on the server but not kept here (another browser, or a reload while it ran).
    try {
      const result = await jobResult(id);
      const fresh = { ...recordOf(id, record ?? metaOfSummary(summary, id), result), speakerNames: record?.speakerNames ?? {} };
      await repo.put(fresh, audio).catch(() => undefined);
      setView({ kind: 'result', record: { ...fresh, hasAudio: Boolean(audio) }, audio });
      focusNext.current = 'result';
      refresh();
    } catch (reason) {
      setView({ kind: 'new' });
      setError(toApiError(reason));
      focusNext.current = 'error';
    }
  };

  const remove = async (id: string): Promise<void> => {
    const summary = recent?.find((job) => job.id === id);
    if (summary?.source === 'server') {
      try {
        await deleteJob(id);
      } catch (reason) {
        const failure = toApiError(reason);
        if (failure.kind !== 'not_found') {
          setError(failure);
          setView({ kind: 'new' });
          focusNext.current = 'error';
          return;
        }
      }
    }
    await repo.remove(id).catch(() => undefined);
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
              reconnecting={running.reconnecting}
              cancelling={running.cancelling}
              onCancel={() => {
                setRunning({ ...running, cancelling: true });
                running.job.cancel();
              }}
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
          <RecentJobs jobs={recent} activeId={activeId} notice={recentNotice} onOpen={(id) => void open(id)} onDelete={(id) => void remove(id)} onNew={newTranscription} />
        </div>
      </div>

      <footer className="mx-auto max-w-7xl px-4 pb-8 text-sm text-slate-600 dark:text-slate-400">
        OpenAI-compatible API at <code className="rounded bg-slate-200/70 px-1 dark:bg-slate-800">/v1/audio/transcriptions</code> and{' '}
        <code className="rounded bg-slate-200/70 px-1 dark:bg-slate-800">/v1/audio/jobs</code> ·{' '}
        <a href="/docs" className="underline underline-offset-2 hover:text-indigo-700 dark:hover:text-indigo-300">
          API docs
        </a>
      </footer>
    </div>
  );
}
