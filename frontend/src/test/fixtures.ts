import type { Transcription } from '../api/client';

const w = (word: string, start: number, end: number, speaker: string) => ({ word, start, end, speaker, probability: 0.9 });

/** A two-speaker verbose_json as the server sends it (paragraphs, entities, sentiment). */
export function twoSpeakers(): Transcription {
  return {
    task: 'transcribe',
    language: 'en',
    duration: 6,
    text: 'Hello Diane, welcome to Boston. Thanks, glad to be here.',
    segments: [
      { id: 0, seek: 0, start: 0, end: 3, text: ' Hello Diane, welcome to Boston.', tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 0, no_speech_prob: 0, speaker: 'SPEAKER_00' },
      { id: 1, seek: 300, start: 3.2, end: 6, text: ' Thanks, glad to be here.', tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 0, no_speech_prob: 0, speaker: 'SPEAKER_01' },
    ],
    words: [
      w('Hello', 0, 0.5, 'SPEAKER_00'),
      w('Diane,', 0.6, 1.1, 'SPEAKER_00'),
      w('welcome', 1.2, 1.8, 'SPEAKER_00'),
      w('to', 1.9, 2.1, 'SPEAKER_00'),
      w('Boston.', 2.2, 3.0, 'SPEAKER_00'),
      w('Thanks,', 3.2, 3.8, 'SPEAKER_01'),
      w('glad', 4.0, 4.4, 'SPEAKER_01'),
      w('to', 4.5, 4.7, 'SPEAKER_01'),
      w('be', 4.8, 5.0, 'SPEAKER_01'),
      w('here.', 5.1, 6.0, 'SPEAKER_01'),
    ],
    speakers: ['SPEAKER_00', 'SPEAKER_01'],
    usage: { type: 'duration', seconds: 6 },
    paragraphs: [
      { start: 0, end: 3, text: 'Hello Diane, welcome to Boston.', speaker: 'SPEAKER_00', sentences: [{ start: 0, end: 3, text: 'Hello Diane, welcome to Boston.' }] },
      { start: 3.2, end: 6, text: 'Thanks, glad to be here.', speaker: 'SPEAKER_01', sentences: [{ start: 3.2, end: 6, text: 'Thanks, glad to be here.' }] },
    ],
    entities: [
      { label: 'PERSON', text: 'Diane', start: 0.6, end: 1.1, speaker: 'SPEAKER_00' },
      { label: 'GPE', text: 'Boston', start: 2.2, end: 3.0, speaker: 'SPEAKER_00' },
    ],
    sentiment: {
      overall: { label: 'positive', score: 0.7 },
      segments: [
        { label: 'positive', score: 0.6, start: 0, end: 3, speaker: 'SPEAKER_00', text: 'Hello Diane, welcome to Boston.' },
        { label: 'neutral', score: 0.1, start: 3.2, end: 6, speaker: 'SPEAKER_01', text: 'Thanks, glad to be here.' },
      ],
    },
  };
}
