/**
 * The transcript as the app shows it: blocks (paragraphs when the server found them, else
 * segments), each with its timed words, its speaker, the entities its words belong to and its
 * sentiment. Built once per result; playback, search and exports read it.
 */
import type { Entity, Sentiment, Transcription } from '../api/client';
import { speakerOrder } from './speakers';

export interface ViewWord {
  /** Position in the whole transcript. */
  index: number;
  text: string;
  start: number;
  end: number;
  speaker: string | null;
  block: number;
  entity: Entity | null;
}

export interface Block {
  index: number;
  speaker: string | null;
  start: number;
  end: number;
  words: ViewWord[];
  /** The block's text as the server wrote it. */
  text: string;
  sentiment: Sentiment | null;
  /** The speaker differs from the previous block's: show who speaks. */
  newTurn: boolean;
}

export interface TranscriptModel {
  words: ViewWord[];
  blocks: Block[];
  /** Labels in order of first appearance. */
  speakers: string[];
  entities: Entity[];
  overall: Sentiment | null;
  byParagraph: boolean;
  duration: number;
  language: string;
}

interface Span {
  start: number;
  end: number;
  text: string;
  speaker: string | null;
}

const normal = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

function spansOf(t: Transcription): { spans: Span[]; byParagraph: boolean } {
  if (t.paragraphs && t.paragraphs.length > 0) {
    return {
      spans: t.paragraphs.map((p) => ({ start: p.start, end: p.end, text: p.text, speaker: p.speaker ?? null })),
      byParagraph: true,
    };
  }
  return {
    spans: t.segments
      .filter((s) => s.text.trim())
      .map((s) => ({ start: s.start, end: s.end, text: s.text.trim(), speaker: s.speaker ?? null })),
    byParagraph: false,
  };
}

/** Words spread evenly over a span, for results that carry no word times. */
function spreadWords(span: Span): { text: string; start: number; end: number; speaker: string | null }[] {
  const tokens = span.text.split(/\s+/).filter(Boolean);
  const step = (span.end - span.start) / Math.max(1, tokens.length);
  return tokens.map((text, i) => ({
    text,
    start: span.start + i * step,
    end: span.start + (i + 1) * step,
    speaker: span.speaker,
  }));
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

export function buildModel(t: Transcription): TranscriptModel {
  const { spans, byParagraph } = spansOf(t);
  const raw =
    t.words && t.words.length > 0
      ? t.words.map((w) => ({ text: w.word, start: w.start, end: w.end, speaker: w.speaker ?? null }))
      : spans.flatMap(spreadWords);
  raw.sort((a, b) => a.start - b.start);

  const blocks: Block[] = spans.map((span, index) => ({
    index,
    speaker: span.speaker,
    start: span.start,
    end: span.end,
    words: [],
    text: span.text,
    sentiment: null,
    newTurn: index === 0 || spans[index - 1]?.speaker !== span.speaker,
  }));
  if (blocks.length === 0 && raw.length > 0) {
    blocks.push({
      index: 0,
      speaker: raw[0]?.speaker ?? null,
      start: raw[0]?.start ?? 0,
      end: raw[raw.length - 1]?.end ?? 0,
      words: [],
      text: t.text,
      sentiment: null,
      newTurn: true,
    });
  }

  // Each word goes to the block its middle falls in (blocks are in time order); a word in a gap
  // goes to the next block.
  const words: ViewWord[] = [];
  let b = 0;
  for (const w of raw) {
    const middle = (w.start + w.end) / 2;
    while (b < blocks.length - 1 && middle > (blocks[b]?.end ?? 0) && middle >= (blocks[b + 1]?.start ?? 0) - 0.5) b += 1;
    const block = blocks[b];
    if (!block) continue;
    const word: ViewWord = { index: words.length, text: w.text.trim(), start: w.start, end: w.end, speaker: w.speaker ?? block.speaker, block: b, entity: null };
    if (!word.text) continue;
    words.push(word);
    block.words.push(word);
  }

  const entities = [...(t.entities ?? [])].sort((x, y) => x.start - y.start);
  for (const entity of entities) {
    const wanted = ` ${normal(entity.text)} `;
    for (const word of words) {
      if (word.end < entity.start - 0.05) continue;
      if (word.start > entity.end + 0.05) break;
      const middle = (word.start + word.end) / 2;
      const inside = middle >= entity.start - 0.05 && middle <= entity.end + 0.05;
      const token = normal(word.text);
      if (inside && token && wanted.includes(` ${token} `) && !word.entity) word.entity = entity;
    }
  }

  const sentiments = (t.sentiment?.segments ?? []).filter((s) => s.start != null && s.end != null);
  for (const block of blocks) {
    let best: Sentiment | null = null;
    let bestOverlap = 0;
    for (const s of sentiments) {
      const o = overlap(block.start, block.end, s.start ?? 0, s.end ?? 0);
      if (o > bestOverlap || (o === bestOverlap && best === null && Math.abs((s.start ?? 0) - block.start) < 0.05)) {
        best = s;
        bestOverlap = o;
      }
    }
    block.sentiment = best;
  }

  return {
    words,
    blocks,
    speakers: speakerOrder([...(t.speakers ?? []), ...blocks.map((x) => x.speaker), ...words.map((w) => w.speaker)]),
    entities,
    overall: t.sentiment?.overall ?? null,
    byParagraph,
    duration: t.duration,
    language: t.language,
  };
}

/** The word being spoken at `time` (seconds), or -1: the last word started, unless long over. */
export function wordAt(words: readonly ViewWord[], time: number): number {
  let lo = 0;
  let hi = words.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((words[mid]?.start ?? Infinity) <= time + 0.01) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (found < 0) return -1;
  const word = words[found];
  return word && time - word.end < 1.0 ? found : -1;
}

/** Seconds each speaker talks (sum of their words' durations, or block durations without words). */
export function talkTime(model: TranscriptModel): Map<string, number> {
  const totals = new Map<string, number>();
  for (const block of model.blocks) {
    for (const w of block.words) {
      const who = w.speaker ?? block.speaker;
      if (who) totals.set(who, (totals.get(who) ?? 0) + Math.max(0, w.end - w.start));
    }
  }
  return totals;
}

export interface SearchMatch {
  block: number;
  /** Indices (in model.words) of the words the match covers. */
  words: number[];
}

/** Every place the query occurs (case-insensitive, across words), in reading order. */
export function search(model: TranscriptModel, query: string): SearchMatch[] {
  const needle = query.toLowerCase().replace(/\s+/g, ' ').trim();
  if (!needle) return [];
  const matches: SearchMatch[] = [];
  for (const block of model.blocks) {
    let haystack = '';
    const ranges: [number, number, number][] = [];
    for (const w of block.words) {
      if (haystack) haystack += ' ';
      ranges.push([haystack.length, haystack.length + w.text.length, w.index]);
      haystack += w.text.toLowerCase();
    }
    let at = haystack.indexOf(needle);
    while (at >= 0) {
      const end = at + needle.length;
      const covered = ranges.filter(([s, e]) => s < end && e > at).map(([, , i]) => i);
      if (covered.length) matches.push({ block: block.index, words: covered });
      at = haystack.indexOf(needle, at + Math.max(1, needle.length));
    }
  }
  return matches;
}
