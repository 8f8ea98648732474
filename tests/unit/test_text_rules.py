"""Text rules: applying them to timed words, and loading them from a YAML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from scribe.adapters.nlp.text_rules_file import TextRulesError, TextRulesProcessor, load_text_rules
from scribe.domain.errors import InvalidRequest
from scribe.domain.options import TranscriptionOptions
from scribe.domain.text_rules import (
    MaskProfanity,
    RemoveFillers,
    Replace,
    Rule,
    apply_rules,
)
from scribe.domain.transcript import Segment, Transcript, Word


def words(text: str, start: float = 0.0, speaker: str = "A") -> tuple[Word, ...]:
    """One word per token, one second apart, each 0.5 s long, Whisper-style leading spaces."""
    return tuple(
        Word(start + i, start + i + 0.5, " " + token, probability=0.9 - i / 100, speaker=speaker)
        for i, token in enumerate(text.split())
    )


def transcript(*texts: str) -> Transcript:
    segments = []
    start = 0.0
    for i, text in enumerate(texts):
        ws = words(text, start)
        segments.append(Segment(i, ws[0].start, ws[-1].end, "".join(w.text for w in ws), ws, "A"))
        start = ws[-1].end + 1.0
    return Transcript("en", start, tuple(segments))


def run(rules: list[Rule], *texts: str) -> Transcript:
    return apply_rules(transcript(*texts), rules)


def test_multi_word_replacement_keeps_timestamps() -> None:
    before = transcript("we called acme corp today")
    after = apply_rules(before, [Replace("acme corp", "ACME Corp.", ignore_case=True)])
    (segment,) = after.segments
    assert segment.text == " we called ACME Corp. today"
    assert [w.text for w in segment.words] == [" we", " called", " ACME Corp.", " today"]
    merged = segment.words[2]
    old = before.segments[0].words
    assert (merged.start, merged.end) == (old[2].start, old[3].end)
    assert merged.probability == min(old[2].probability, old[3].probability)
    assert segment.words[3] == old[4]


def test_replacement_keeps_punctuation_around_the_match() -> None:
    after = run([Replace("acme corp", "ACME Corp.", ignore_case=True)], "Call Acme Corp, please.")
    assert after.segments[0].text == " Call ACME Corp., please."


def test_literal_find_matches_any_spacing_and_is_not_a_regex() -> None:
    after = run([Replace("a.b  c", "X")], "a.b c axb c")
    assert after.segments[0].text == " X axb c"


def test_whole_word_does_not_touch_substrings() -> None:
    rule = Replace("cat", "dog", whole_word=True)
    after = run([rule], "cat concatenate cat. cats")
    assert after.segments[0].text == " dog concatenate dog. cats"
    loose = run([Replace("cat", "dog")], "concatenate")
    assert loose.segments[0].text == " condogenate"


def test_regex_replacement_with_groups_and_case() -> None:
    rules: list[Rule] = [
        Replace(r"\bgonna\b", "going to", regex=True),
        Replace(r"(\d+) percent", r"\1%", regex=True),
    ]
    after = run(rules, "we're gonna grow 20 percent")
    assert after.segments[0].text == " we're going to grow 20%"
    assert [w.text for w in after.segments[0].words] == [" we're", " going to", " grow", " 20%"]
    assert after.segments[0].words[3].end == 4.5  # end of "percent"


def test_several_matches_in_one_word_and_deleting_words() -> None:
    after = run([Replace("ab", "x")], "abcab keep")
    assert after.segments[0].text == " xcx keep"
    deleted = run([Replace("basically", "", whole_word=True)], "it basically works")
    assert [(w.text, w.start) for w in deleted.segments[0].words] == [(" it", 0.0), (" works", 2.0)]
    phrase = run([Replace(r",? you know,?", "", regex=True)], "it was, you know, fine")
    assert [(w.text, w.start, w.end) for w in phrase.segments[0].words] == [
        (" it", 0.0, 0.5),
        (" was", 1.0, 3.5),
        (" fine", 4.0, 4.5),
    ]


def test_replacement_stays_inside_a_segment() -> None:
    after = run([Replace("acme corp", "ACME")], "call acme", "corp now")
    assert [s.text for s in after.segments] == [" call acme", " corp now"]


def test_fillers_are_removed_and_text_rebuilt() -> None:
    after = run([RemoveFillers()], "Um, I think, uh, it works. Erm", "Uh.", "so there")
    assert [s.text for s in after.segments] == [" I think, it works.", " so there"]
    assert [s.id for s in after.segments] == [0, 1]  # the segment of only fillers is gone
    first = after.segments[0]
    assert [w.text for w in first.words] == [" I", " think,", " it", " works."]
    assert first.words[0].start == 1.0  # the word keeps its own time


def test_filler_carrying_the_sentence_end_hands_it_over() -> None:
    after = run([RemoveFillers()], "I think, um. Uh, so yes")
    assert after.segments[0].text == " I think. So yes"


def test_custom_filler_list() -> None:
    after = run([RemoveFillers(("like",))], "it was like um great")
    assert after.segments[0].text == " it was um great"


def test_profanity_is_masked_keeping_first_letter_and_punctuation() -> None:
    after = run([MaskProfanity()], "Shit, that fucking shitake cunt. Fine")
    assert after.segments[0].text == " S***, that f****** s****** c***. Fine"
    custom = run([MaskProfanity(("darn",), mask="#")], "Darn, darned darn.")
    assert custom.segments[0].text == " D###, darned d###."
    times = [(w.start, w.end) for w in custom.segments[0].words]
    assert times == [(0.0, 0.5), (1.0, 1.5), (2.0, 2.5)]


def test_segment_without_words_is_handled_through_its_text() -> None:
    segments = (
        Segment(0, 0.0, 3.0, " Um, we met acme corp.", speaker="A"),
        Segment(1, 3.0, 4.0, " Uh.", speaker="B"),
    )
    rules: list[Rule] = [RemoveFillers(), Replace("acme corp", "ACME")]
    after = apply_rules(Transcript("en", 4.0, segments), rules)
    assert [(s.id, s.text, s.words) for s in after.segments] == [(0, " We met ACME.", ())]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"find": "", "with_": "x"}, "must not be empty"),
        ({"find": "(", "with_": "x", "regex": True}, "not a valid regular expression"),
        ({"find": "(a)", "with_": r"\2", "regex": True}, "does not fit"),
    ],
)
def test_bad_replace_rules_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Replace(**kwargs)  # type: ignore[arg-type]


# --- the processor ----------------------------------------------------------------------------

EXAMPLE = """\
rule_sets:
  house-style:
    - replace: {find: "\\\\bgonna\\\\b", with: "going to", regex: true}
    - replace: {find: "acme corp", with: "ACME Corp.", whole_word: true, ignore_case: true}
    - remove_fillers: {words: [um, uh, erm]}
    - mask_profanity: {words: [darn], mask: "*"}
  clean:
    - remove_fillers
    - mask_profanity:
  shout:
    - replace: {find: "(\\\\w+)!", with: "\\\\1!!!", regex: true}
"""


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    return path


def test_load_example_file(rules_file: Path) -> None:
    sets = load_text_rules(rules_file)
    assert list(sets) == ["house-style", "clean", "shout"]
    house = sets["house-style"].rules
    assert [type(r).__name__ for r in house] == [
        "Replace",
        "Replace",
        "RemoveFillers",
        "MaskProfanity",
    ]
    assert house[1] == Replace("acme corp", "ACME Corp.", whole_word=True, ignore_case=True)
    assert house[2] == RemoveFillers(("um", "uh", "erm"))
    assert sets["clean"].rules == (RemoveFillers(), MaskProfanity())


def test_processor_applies_named_sets_in_order(rules_file: Path) -> None:
    processor = TextRulesProcessor(load_text_rules(rules_file))
    assert not processor.wanted(TranscriptionOptions())
    options = TranscriptionOptions(text_rules=("house-style", "shout"))
    assert processor.wanted(options)
    after = processor.apply(transcript("um we're gonna call Acme Corp darn now!"), options)
    assert after.segments[0].text == " we're going to call ACME Corp. d*** now!!!"


def test_unknown_rule_set_is_an_invalid_request(rules_file: Path) -> None:
    processor = TextRulesProcessor(load_text_rules(rules_file))
    options = TranscriptionOptions(text_rules=("clean", "house_style"))
    with pytest.raises(InvalidRequest) as caught:
        processor.apply(transcript("hello"), options)
    assert caught.value.param == "text_rules"
    assert "'house_style'" in caught.value.message
    for name in ("house-style", "clean", "shout"):
        assert name in caught.value.message
    with pytest.raises(InvalidRequest, match="no text rules file"):
        TextRulesProcessor({}).validate(options)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("rule_sets:\n  a:\n    - replace: {find: x, with: y\n", 4, "not valid YAML"),
        ("rule_sets:\n  a:\n    - remove_fillers\n    - shout: {}\n", 4, "unknown rule kind"),
        (
            "rule_sets:\n  a:\n    - remove_fillers\n  b:\n"
            "    - replace: {find: '(', with: y, regex: true}\n",
            5,
            "not a valid regular expression",
        ),
        ("rule_sets:\n  a:\n\n    - replace:\n        find: x\n", 4, "needs `with`"),
        (
            "rule_sets:\n  a:\n    - replace: {find: x, with: y, regx: true}\n",
            3,
            "no setting `regx`",
        ),
        ("rule_sets:\n  a:\n    - replace: {find: x, with: y, regex: yes please}\n", 3, "true or"),
        ("rule_sets:\n  a:\n    - mask_profanity: {mask: ''}\n", 3, "`mask`"),
        ("rule_sets:\n  a:\n    - remove_fillers: {words: um}\n", 3, "list of words"),
        ("rule_sets:\n  a: {replace: x}\n", 2, "must be a list"),
        ("rules:\n  a: []\n", 1, "expected `rule_sets`"),
        ("rule_sets:\n  a: []\n  b: []\n  a: []\n", 4, "defined twice"),
        ("rule_sets:\n  a:\n    - {replace: {find: a, with: b}, remove_fillers: null}\n", 3, "one"),
    ],
)
def test_bad_file_names_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TextRulesError) as caught:
        load_text_rules(path)
    assert f"{path}, line {line}:" in str(caught.value)
    assert message in str(caught.value)


def test_missing_or_empty_file(tmp_path: Path) -> None:
    with pytest.raises(TextRulesError, match="cannot be read"):
        load_text_rules(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(TextRulesError, match="empty"):
        load_text_rules(empty)
