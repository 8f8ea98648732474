// The official openai Node SDK against a running Scribe server, as a migrating client uses it.
//   node client.mjs BASE_URL SPEECH_CLIP TWO_SPEAKER_CLIP
// Prints one JSON object with what each call returned; tests/e2e/test_node_client.py checks it.
import fs from "node:fs";
import OpenAI from "openai";

const [baseURL, speech, twoSpeakers] = process.argv.slice(2);
if (!baseURL || !speech || !twoSpeakers) {
  console.error("usage: node client.mjs BASE_URL SPEECH_CLIP TWO_SPEAKER_CLIP");
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: "not-needed", maxRetries: 0, timeout: 300_000 });
const file = (path) => fs.createReadStream(path);
const out = {};

const plain = await client.audio.transcriptions.create({ model: "whisper-1", file: file(speech) });
out.json = { text: plain.text, usage: plain.usage };

const verbose = await client.audio.transcriptions.create({
  model: "whisper-1",
  file: file(speech),
  response_format: "verbose_json",
  timestamp_granularities: ["word"],
});
out.verbose_json = {
  language: verbose.language,
  duration: verbose.duration,
  words: verbose.words,
  segments: verbose.segments.length,
};

const diarized = await client.audio.transcriptions.create({
  model: "whisper-1",
  file: file(twoSpeakers),
  response_format: "diarized_json",
});
out.diarized_json = { speakers: diarized.segments.map((s) => s.speaker), text: diarized.text };

const stream = await client.audio.transcriptions.create({
  model: "whisper-1",
  file: file(speech),
  stream: true,
});
out.stream = [];
for await (const event of stream) out.stream.push(event);

const translation = await client.audio.translations.create({
  model: "whisper-1",
  file: file(speech),
});
out.translation = { text: translation.text };

try {
  await client.audio.transcriptions.create({
    model: "whisper-1",
    file: file(speech),
    language: "klingon",
  });
  out.error = null;
} catch (error) {
  if (!(error instanceof OpenAI.APIError)) throw error;
  out.error = {
    class: error.constructor.name,
    status: error.status,
    param: error.param,
    code: error.code,
    type: error.type,
    requestID: error.requestID,
  };
}

console.log(JSON.stringify(out));
