/**
 * Exports built in the browser from the result, with the speakers as the person renamed them:
 * TXT, SRT, WebVTT, JSON and DOCX. Cue timing follows the server's own SRT/VTT writers.
 */
import type { Transcription } from '../api/client';
import { clock, spokenDuration, timestamp } from './time';
import { displayName, type SpeakerNames } from './speakers';
import type { TranscriptModel } from './transcript';

export type ExportFormat = 'txt' | 'srt' | 'vtt' | 'json' | 'docx';

export const EXPORTS: readonly { format: ExportFormat; label: string; description: string; mime: string }[] = [
  { format: 'txt', label: 'Text', description: 'Plain text, one speaker turn per paragraph', mime: 'text/plain;charset=utf-8' },
  { format: 'srt', label: 'SRT', description: 'SubRip subtitles', mime: 'application/x-subrip;charset=utf-8' },
  { format: 'vtt', label: 'WebVTT', description: 'Web subtitles with voice tags', mime: 'text/vtt;charset=utf-8' },
  { format: 'json', label: 'JSON', description: 'Segments, words, speakers and insights', mime: 'application/json' },
  {
    format: 'docx',
    label: 'Word',
    description: 'A document to read and edit',
    mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  },
];

interface Turn {
  speaker: string | null;
  start: number;
  text: string;
}

/** Paragraphs as they are; segments joined into speaker turns. */
export function turns(model: TranscriptModel): Turn[] {
  const out: Turn[] = [];
  for (const block of model.blocks) {
    const text = block.text.trim();
    if (!text) continue;
    const last = out[out.length - 1];
    if (!model.byParagraph && last && last.speaker === block.speaker) {
      last.text += ` ${text}`;
    } else {
      out.push({ speaker: block.speaker, start: block.start, text });
    }
  }
  return out;
}

function hasSpeakers(model: TranscriptModel): boolean {
  return model.speakers.length > 0;
}

export function toText(model: TranscriptModel, names: SpeakerNames): string {
  const blocks = turns(model).map((t) => (hasSpeakers(model) && t.speaker ? `${displayName(t.speaker, names)}: ${t.text}` : t.text));
  if (blocks.length === 0) return '';
  return blocks.join(model.byParagraph ? '\n\n' : '\n') + '\n';
}

function cues(t: Transcription): { start: number; end: number; text: string; speaker: string | null }[] {
  let previousEnd = 0;
  const out = [];
  for (const s of t.segments) {
    const text = s.text.trim();
    if (!text) continue;
    const start = Math.max(s.start, previousEnd);
    const end = Math.max(s.end, start + 0.001);
    previousEnd = end;
    out.push({ start, end, text, speaker: s.speaker ?? null });
  }
  return out;
}

export function toSrt(t: Transcription, names: SpeakerNames): string {
  return cues(t)
    .map((c, i) => {
      const text = c.speaker ? `${displayName(c.speaker, names)}: ${c.text}` : c.text;
      return `${i + 1}\n${timestamp(c.start, ',')} --> ${timestamp(c.end, ',')}\n${text}\n`;
    })
    .join('\n');
}

const vttEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function toVtt(t: Transcription, names: SpeakerNames): string {
  const blocks = ['WEBVTT\n'];
  for (const c of cues(t)) {
    let text = vttEscape(c.text.replace(/-->/g, '->'));
    if (c.speaker) text = `<v ${vttEscape(displayName(c.speaker, names))}>${text}`;
    blocks.push(`${timestamp(c.start, '.')} --> ${timestamp(c.end, '.')}\n${text}\n`);
  }
  return blocks.join('\n');
}

/** The server's verbose_json with every speaker label replaced by its name, plus the mapping. */
export function toJson(t: Transcription, names: SpeakerNames): string {
  const rename = <T extends { speaker?: string | null }>(item: T): T =>
    item.speaker ? { ...item, speaker: displayName(item.speaker, names) } : item;
  const labels = t.speakers ?? [];
  const body = {
    ...t,
    segments: t.segments.map(rename),
    words: t.words?.map(rename),
    speakers: t.speakers?.map((s) => displayName(s, names)),
    paragraphs: t.paragraphs?.map(rename),
    entities: t.entities?.map(rename),
    sentiment: t.sentiment ? { overall: rename(t.sentiment.overall), segments: t.sentiment.segments.map(rename) } : t.sentiment,
    speaker_labels: Object.fromEntries(labels.map((s) => [s, displayName(s, names)])),
  };
  return JSON.stringify(body, (_, value: unknown) => (value === undefined || value === null ? undefined : value), 2) + '\n';
}

export interface DocInfo {
  title: string;
  createdAt: number;
}

export async function toDocx(model: TranscriptModel, names: SpeakerNames, info: DocInfo): Promise<Blob> {
  const { Document, HeadingLevel, Packer, Paragraph, TextRun } = await import('docx');
  const speakers = model.speakers.map((s) => displayName(s, names));
  const facts = [
    new Date(info.createdAt).toLocaleString(),
    spokenDuration(model.duration),
    model.language ? `language ${model.language}` : '',
    speakers.length ? `speakers: ${speakers.join(', ')}` : '',
  ].filter(Boolean);
  const body = turns(model).flatMap((turn) => {
    const head = [];
    if (turn.speaker && hasSpeakers(model)) head.push(new TextRun({ text: displayName(turn.speaker, names), bold: true }));
    head.push(new TextRun({ text: `${head.length ? '  ' : ''}${clock(turn.start)}`, color: '6B7280', size: 18 }));
    return [
      new Paragraph({ children: head, spacing: { before: 240 }, keepNext: true }),
      new Paragraph({ children: [new TextRun(turn.text)] }),
    ];
  });
  const doc = new Document({
    creator: 'Scribe',
    title: info.title,
    description: 'Transcript with speakers',
    sections: [
      {
        children: [
          new Paragraph({ text: info.title, heading: HeadingLevel.HEADING_1 }),
          new Paragraph({ children: [new TextRun({ text: facts.join(' · '), color: '6B7280' })] }),
          ...body,
        ],
      },
    ],
  });
  return Packer.toBlob(doc);
}

/** The export as a Blob, named after the recording. */
export async function exportFile(
  format: ExportFormat,
  t: Transcription,
  model: TranscriptModel,
  names: SpeakerNames,
  info: DocInfo,
): Promise<{ blob: Blob; filename: string }> {
  const stem = info.title.replace(/\.[^.]+$/, '') || 'transcript';
  const mime = EXPORTS.find((e) => e.format === format)?.mime ?? 'application/octet-stream';
  const filename = `${stem}.${format}`;
  if (format === 'docx') return { blob: await toDocx(model, names, info), filename };
  const text =
    format === 'txt' ? toText(model, names) : format === 'srt' ? toSrt(t, names) : format === 'vtt' ? toVtt(t, names) : toJson(t, names);
  return { blob: new Blob([text], { type: mime }), filename };
}

/** Save a Blob through the browser's download. */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
