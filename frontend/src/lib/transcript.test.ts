import { describe, expect, it } from 'vitest';
import { twoSpeakers } from '../test/fixtures';
import { buildModel, search, talkTime, wordAt } from './transcript';

describe('buildModel', () => {
  it('builds paragraph blocks with their words, speakers, entities and sentiment', () => {
    const model = buildModel(twoSpeakers());
    expect(model.byParagraph).toBe(true);
    expect(model.speakers).toEqual(['SPEAKER_00', 'SPEAKER_01']);
    expect(model.blocks.map((b) => b.words.map((w) => w.text).join(' '))).toEqual(['Hello Diane, welcome to Boston.', 'Thanks, glad to be here.']);
    expect(model.blocks.map((b) => b.newTurn)).toEqual([true, true]);
    expect(model.blocks.map((b) => b.sentiment?.label)).toEqual(['positive', 'neutral']);
    const entities = model.words.filter((w) => w.entity).map((w) => [w.text, w.entity?.label]);
    expect(entities).toEqual([
      ['Diane,', 'PERSON'],
      ['Boston.', 'GPE'],
    ]);
    expect(model.overall?.label).toBe('positive');
  });

  it('falls back to segments, and to evenly spread words when none are timed', () => {
    const t = { ...twoSpeakers(), paragraphs: null, words: null, entities: null, sentiment: null };
    const model = buildModel(t);
    expect(model.byParagraph).toBe(false);
    expect(model.blocks).toHaveLength(2);
    const first = model.blocks[0]!.words;
    expect(first.map((w) => w.text)).toEqual(['Hello', 'Diane,', 'welcome', 'to', 'Boston.']);
    expect(first[0]!.start).toBe(0);
    expect(first[4]!.end).toBeCloseTo(3);
  });

  it('marks a new turn only when the speaker changes', () => {
    const t = twoSpeakers();
    t.paragraphs = null;
    t.segments[1]!.speaker = 'SPEAKER_00';
    t.words = t.words!.map((w) => ({ ...w, speaker: 'SPEAKER_00' }));
    const model = buildModel(t);
    expect(model.blocks.map((b) => b.newTurn)).toEqual([true, false]);
  });
});

describe('wordAt', () => {
  const { words } = buildModel(twoSpeakers());
  it('finds the word being spoken, and none long after the last', () => {
    expect(wordAt(words, 0.1)).toBe(0);
    expect(wordAt(words, 0.55)).toBe(0); // between words: the last one started
    expect(wordAt(words, 2.5)).toBe(4);
    expect(wordAt(words, 4.1)).toBe(6);
    expect(wordAt(words, -1)).toBe(-1);
    expect(wordAt(words, 60)).toBe(-1);
  });
});

describe('search', () => {
  const model = buildModel(twoSpeakers());
  it('finds words case-insensitively, across word boundaries', () => {
    expect(search(model, 'BOSTON')).toEqual([{ block: 0, words: [4] }]);
    expect(search(model, 'welcome to')).toEqual([{ block: 0, words: [2, 3] }]);
    expect(search(model, 'to').map((m) => m.words)).toEqual([[3], [4], [7]]); // Boston too: substrings match
    expect(search(model, '  ')).toEqual([]);
    expect(search(model, 'nowhere')).toEqual([]);
  });
});

describe('talkTime', () => {
  it('adds up each speaker’s words', () => {
    const talk = talkTime(buildModel(twoSpeakers()));
    expect(talk.get('SPEAKER_00')).toBeCloseTo(0.5 + 0.5 + 0.6 + 0.2 + 0.8);
    expect(talk.get('SPEAKER_01')).toBeCloseTo(0.6 + 0.4 + 0.2 + 0.2 + 0.9);
  });
});
