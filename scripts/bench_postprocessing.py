"""Time each post-processing step on a long transcript built from a reference ``.stm`` file.

The 30 s two-speaker reference of pyannote_sample.wav, repeated ``--repeat`` times (10 = 5 min),
each line's words spread evenly over its time span. Each step is timed cold (first call in this
process: imports and model loading included) and warm (median of ``--runs`` further calls).

    python scripts/bench_postprocessing.py [--stm ../shared/eval/pyannote_sample.stm] [--repeat 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scribe.adapters.nlp.paragraphs import ParagraphDetector
from scribe.adapters.nlp.spacy_entities import SpacyEntityRecognizer
from scribe.adapters.nlp.text_rules_file import TextRulesProcessor, load_text_rules
from scribe.adapters.nlp.vader_sentiment import VaderSentimentAnalyzer
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import Segment, Transcript, Word

RULES = """\
rule_sets:
  house-style:
    - replace: {find: "\\\\bgonna\\\\b", with: "going to", regex: true}
    - replace: {find: "new jersey", with: "New Jersey (NJ)", whole_word: true, ignore_case: true}
    - replace: {find: "(\\\\w+) percent", with: "\\\\1%", regex: true}
    - remove_fillers
    - mask_profanity
"""
DEFAULT_STM = Path(__file__).resolve().parents[2] / "shared" / "eval" / "pyannote_sample.stm"


def long_transcript(stm: Path, repeat: int) -> Transcript:
    rows: list[tuple[str, float, float, str]] = []
    for raw in stm.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith(";;"):
            _f, _c, who, begin, finish, words_of_line = raw.split(maxsplit=5)
            rows.append((who, float(begin), float(finish), words_of_line))
    period = max(row[2] for row in rows)
    segments: list[Segment] = []
    for r in range(repeat):
        for speaker, line_start, line_end, text in rows:
            start, end = line_start + r * period, line_end + r * period
            tokens = text.split()
            step = (end - start) / len(tokens)
            words = tuple(
                Word(start + k * step, start + (k + 1) * step, " " + t, speaker=speaker)
                for k, t in enumerate(tokens)
            )
            segments.append(Segment(len(segments), start, end, " " + text, words, speaker))
    return Transcript("en", repeat * period, tuple(segments))


def timed(fn: Callable[[], Transcript]) -> tuple[float, Transcript]:
    t0 = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t0) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stm", type=Path, default=DEFAULT_STM)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    transcript = long_transcript(args.stm, args.repeat)
    options = TranscriptionOptions(
        detect_paragraphs=True,
        detect_entities=True,
        detect_sentiment=True,
        text_rules=("house-style",),
    )
    with tempfile.TemporaryDirectory() as tmp:
        rules_path = Path(tmp) / "rules.yaml"
        rules_path.write_text(RULES, encoding="utf-8")
        t0 = time.perf_counter()
        rules = TextRulesProcessor(load_text_rules(rules_path))
        load_rules_ms = (time.perf_counter() - t0) * 1000

    print(
        f"transcript: {transcript.duration:.0f} s, {len(transcript.segments)} segments, "
        f"{len(transcript.words)} words, {len(transcript.text)} characters"
    )
    print(f"load_text_rules: {load_rules_ms:.1f} ms")
    # In pipeline order; each step gets the previous step's output.
    steps = [
        ("text rules", rules),
        ("paragraphs", ParagraphDetector(pause_seconds=1.5, max_sentences=6)),
        ("entities (spaCy)", SpacyEntityRecognizer()),
        ("sentiment (VADER)", VaderSentimentAnalyzer()),
    ]
    current = transcript
    cold_total = warm_total = 0.0
    print(f"{'step':<20}{'cold ms':>10}{'warm ms':>10}  result")
    for name, step in steps:
        source = current
        cold, current = timed(lambda s=step, t=source: s.apply(t, options))  # type: ignore[misc]
        warm = statistics.median(
            timed(lambda s=step, t=source: s.apply(t, options))[0]  # type: ignore[misc]
            for _ in range(args.runs)
        )
        cold_total += cold
        warm_total += warm
        summary = {
            "text rules": f"{len(current.words)} words",
            "paragraphs": f"{len(current.paragraphs or ())} paragraphs",
            "entities (spaCy)": f"{len(current.entities or ())} entities",
            "sentiment (VADER)": f"{len(current.segment_sentiments or ())} scores, "
            f"overall {current.sentiment}",
        }[name]
        print(f"{name:<20}{cold:>10.1f}{warm:>10.1f}  {summary}")
    print(f"{'total':<20}{cold_total:>10.1f}{warm_total:>10.1f}")
    share = warm_total / 1000 / 60 * 100
    print(f"warm total is {share:.1f} % of a 60 s (5-minute CPU) transcription job")


if __name__ == "__main__":
    main()
