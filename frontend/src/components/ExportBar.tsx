import { useState } from 'react';
import type { Transcription } from '../api/client';
import { download, EXPORTS, exportFile, type DocInfo, type ExportFormat } from '../lib/exports';
import type { SpeakerNames } from '../lib/speakers';
import type { TranscriptModel } from '../lib/transcript';
import { DownloadIcon } from './icons';
import { Button } from './ui';

/** Download the transcript as TXT, SRT, VTT, JSON or DOCX, with the speakers as renamed. */
export function ExportBar({ result, model, names, info }: { result: Transcription; model: TranscriptModel; names: SpeakerNames; info: DocInfo }) {
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const save = async (format: ExportFormat): Promise<void> => {
    setBusy(format);
    setFailure(null);
    try {
      const { blob, filename } = await exportFile(format, result, model, names, info);
      download(blob, filename);
    } catch (error) {
      setFailure(`Could not build the ${format.toUpperCase()} file: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div>
      <div role="group" aria-labelledby="export-label" className="flex flex-wrap items-center gap-1.5">
        <span id="export-label" className="mr-1 inline-flex items-center gap-1 text-sm font-medium text-slate-700 dark:text-slate-300">
          <DownloadIcon width={16} height={16} /> Export
        </span>
        {EXPORTS.map((e) => (
          <Button key={e.format} size="sm" onClick={() => void save(e.format)} disabled={busy !== null} title={e.description}>
            {e.format.toUpperCase()}
          </Button>
        ))}
      </div>
      {failure && (
        <p role="alert" className="mt-2 text-sm text-red-700 dark:text-red-300">
          {failure}
        </p>
      )}
    </div>
  );
}
