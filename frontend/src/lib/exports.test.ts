import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { twoSpeakers } from '../test/fixtures';
import { exportFile, toJson, toSrt, toText, toVtt } from './exports';
import { buildModel } from './transcript';

const names = { SPEAKER_00: 'Anna Lee', SPEAKER_01: 'Bob <B>' };

describe('exports', () => {
  const t = twoSpeakers();
  const model = buildModel(t);

  it('writes text with renamed speakers, one paragraph each', () => {
    expect(toText(model, names)).toBe('Anna Lee: Hello Diane, welcome to Boston.\n\nBob <B>: Thanks, glad to be here.\n');
    expect(toText(model, {})).toContain('SPEAKER_00: Hello');
  });

  it('joins segments of one speaker into a turn without paragraphs', () => {
    const plain = { ...t, paragraphs: null, segments: t.segments.map((s) => ({ ...s, speaker: 'SPEAKER_00' })) };
    expect(toText(buildModel(plain), names)).toBe('Anna Lee: Hello Diane, welcome to Boston. Thanks, glad to be here.\n');
  });

  it('writes SRT cues with the speaker before the text', () => {
    expect(toSrt(t, names)).toBe(
      '1\n00:00:00,000 --> 00:00:03,000\nAnna Lee: Hello Diane, welcome to Boston.\n\n2\n00:00:03,200 --> 00:00:06,000\nBob <B>: Thanks, glad to be here.\n',
    );
  });

  it('writes WebVTT with escaped voice tags', () => {
    const vtt = toVtt(t, names);
    expect(vtt.startsWith('WEBVTT\n\n00:00:00.000 --> 00:00:03.000\n<v Anna Lee>Hello Diane')).toBe(true);
    expect(vtt).toContain('<v Bob &lt;B&gt;>Thanks');
  });

  it('writes JSON with names in every place a speaker appears', () => {
    const body = JSON.parse(toJson(t, names));
    expect(body.speakers).toEqual(['Anna Lee', 'Bob <B>']);
    expect(body.segments[0].speaker).toBe('Anna Lee');
    expect(body.words[5].speaker).toBe('Bob <B>');
    expect(body.paragraphs[1].speaker).toBe('Bob <B>');
    expect(body.entities[0].speaker).toBe('Anna Lee');
    expect(body.sentiment.segments[1].speaker).toBe('Bob <B>');
    expect(body.speaker_labels).toEqual({ SPEAKER_00: 'Anna Lee', SPEAKER_01: 'Bob <B>' });
  });

  it('builds a Word document with the names and the text', async () => {
    const { blob, filename } = await exportFile('docx', t, model, names, { title: 'call.wav', createdAt: 0 });
    expect(filename).toBe('call.docx');
    const zip = await JSZip.loadAsync(blob);
    const xml = await zip.file('word/document.xml')!.async('string');
    expect(xml).toContain('Anna Lee');
    expect(xml).toContain('Bob &lt;B&gt;');
    expect(xml).toContain('Thanks, glad to be here.');
  });

  it('names files after the recording', async () => {
    const { filename, blob } = await exportFile('srt', t, model, names, { title: 'Team call.m4a', createdAt: 0 });
    expect(filename).toBe('Team call.srt');
    expect(blob.type).toContain('subrip');
  });
});
