"""The repetition-loop guard: decoding loops are cut to their first copy, real speech is kept."""

from __future__ import annotations

import pytest

from scribe.adapters.asr.repetition import RepetitionGuard, loop_mask, normalize_word


def kept(words: list[str], history: tuple[str, ...] = ()) -> list[str]:
    return [w for w, keep in zip(words, loop_mask(words, history), strict=True) if keep]


def test_a_word_loop_keeps_its_first_copy() -> None:
    # What Whisper base wrote for an AMI meeting decoded without the temperature fallback.
    said = [
        "just",
        "what",
        "he's",
        "talking",
        "about",
        "duplication",
        "of",
        "effort",
        "duplication",
        "of",
        "effort",
    ]
    assert kept(said + ["of", "effort"] * 30) == said


def test_a_sentence_loop_keeps_its_first_copy_and_what_follows() -> None:
    words = ["Hello."] + ["I'm", "Abigail", "Klaflin."] * 20 + ["You", "can", "call", "me", "Abby."]
    assert kept(words) == [
        "Hello.",
        "I'm",
        "Abigail",
        "Klaflin.",
        "You",
        "can",
        "call",
        "me",
        "Abby.",
    ]


def test_a_single_word_loop_is_cut_even_with_punctuation_and_case() -> None:
    assert kept(["Effort,"] + ["effort"] * 15 + ["EFFORT."]) == ["Effort,"]


@pytest.mark.parametrize(
    "speech",
    [
        "hello? hello? oh, hello.",
        "no, no, no, I said no.",
        "duplication of effort, duplication of effort and stuff",
        "thank you thank you thank you very much",
        "okay. okay. okay. okay. okay.",
        "",
    ],
)
def test_real_repetitions_are_kept(speech: str) -> None:
    words = speech.split()
    assert kept(words) == words


def test_words_already_emitted_are_never_dropped_only_later_copies() -> None:
    sentence = ["I'm", "Abigail", "Klaflin."]
    history = tuple(normalize_word(w) for w in sentence * 2)
    # A third copy completes a loop (3 copies, 9 words): it is dropped, what follows is kept.
    assert kept([*sentence, "Bye."], history) == ["Bye."]
    # After an unrelated sentence the same words are new speech again.
    assert kept(sentence, ("something", "else", "entirely")) == sentence


def test_the_guard_cuts_a_loop_spread_over_segments() -> None:
    guard = RepetitionGuard()
    segments = [["I'm", "Abigail", "Klaflin."]] * 12 + [["You", "can", "call", "me", "Abby."]]
    out = [[w for w, k in zip(s, guard.keep(s), strict=True) if k] for s in segments]
    assert out[:2] == [["I'm", "Abigail", "Klaflin."]] * 2
    assert all(s == [] for s in out[2:12])
    assert out[12] == ["You", "can", "call", "me", "Abby."]
    assert guard.dropped == 30


def test_the_guard_forgets_beyond_its_history() -> None:
    guard = RepetitionGuard(history_words=5)
    guard.keep(["a", "b", "c"] * 2)
    guard.keep([str(i) for i in range(10)])
    assert all(guard.keep(["a", "b", "c"]))
