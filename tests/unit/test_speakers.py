from scribe.domain.speakers import (
    assign_speakers,
    relabel,
    speaker_labels,
    speaker_of,
    speakers_in_order,
)
from scribe.domain.transcript import Segment, SpeakerTurn, Word

TURNS = [SpeakerTurn(0.0, 2.0, "x"), SpeakerTurn(2.0, 4.0, "y"), SpeakerTurn(5.0, 6.0, "x")]


def test_largest_overlap_wins() -> None:
    assert speaker_of(1.8, 2.5, TURNS) == "y"  # 0.2 s with x, 0.5 s with y
    assert speaker_of(1.5, 2.1, TURNS) == "x"


def test_word_in_a_gap_takes_the_nearest_turn() -> None:
    assert speaker_of(4.1, 4.3, TURNS) == "y"
    assert speaker_of(4.7, 4.9, TURNS) == "x"


# x talks 0-4 s; y talks over x from 2.5 to 3.5 s, then alone until 5 s
OVERLAPPING = [SpeakerTurn(0.0, 4.0, "x"), SpeakerTurn(2.5, 5.0, "y")]


def test_overlapped_time_does_not_decide_a_word() -> None:
    # 0.3 s alone with x, 0.4 s of both: x, though y overlaps the word almost as much
    assert speaker_of(2.2, 2.9, OVERLAPPING) == "x"
    # 0.4 s of both, 0.2 s alone with y: y
    assert speaker_of(3.6, 4.2, OVERLAPPING) == "y"


def test_a_word_inside_overlap_goes_to_the_speaker_who_took_over() -> None:
    assert speaker_of(2.7, 3.1, OVERLAPPING) == "y"
    assert speaker_of(2.7, 3.1, list(reversed(OVERLAPPING))) == "y"  # order does not matter


def test_a_handover_splits_where_the_newcomer_starts() -> None:
    # x finishes "we should" while y starts "and I" over it, then y goes on alone
    seg = _segment([(2.0, 2.4, "we"), (2.4, 2.6, "should"), (2.7, 3.0, "and"), (3.1, 3.4, "I"),
                    (4.2, 4.6, "went")])  # fmt: skip
    (first, second) = assign_speakers([seg], OVERLAPPING)
    assert [w.speaker for w in first.words] == ["x", "x"]
    assert second.speaker == "y" and second.text == "and I went"


def test_many_turns_are_looked_up_by_time() -> None:
    turns = [SpeakerTurn(i * 1.0, i * 1.0 + 1.0, f"s{i % 3}") for i in range(2000)]
    words = [Word(i + 0.2, i + 0.6, " w") for i in range(0, 2000, 7)]
    segment = Segment(0, words[0].start, words[-1].end, "w", tuple(words))
    spoken = [w.speaker for s in assign_speakers([segment], turns) for w in s.words]
    assert spoken == [f"s{i % 3}" for i in range(0, 2000, 7)]


def test_no_turns_means_no_speaker() -> None:
    assert speaker_of(0.0, 1.0, []) is None


def _segment(words: list[tuple[float, float, str]]) -> Segment:
    ws = tuple(Word(s, e, " " + t) for s, e, t in words)
    return Segment(
        id=7, start=ws[0].start, end=ws[-1].end, text="".join(w.text for w in ws).strip(), words=ws
    )


def test_segments_split_where_the_speaker_changes() -> None:
    seg = _segment([(0.1, 0.5, "hi"), (0.6, 1.0, "there"), (2.2, 2.6, "hello"), (2.7, 3.0, "back")])
    out = assign_speakers([seg], TURNS)
    assert [(s.id, s.speaker, s.text) for s in out] == [
        (0, "x", "hi there"),
        (1, "y", "hello back"),
    ]
    assert out[0].start == 0.1 and out[0].end == 1.0
    assert out[1].start == 2.2 and out[1].end == 3.0
    assert all(w.speaker == s.speaker for s in out for w in s.words)


def test_a_single_speaker_segment_keeps_its_bounds_and_text() -> None:
    seg = Segment(
        id=0,
        start=0.0,
        end=1.9,
        text="Hi there.",
        words=(Word(0.2, 0.6, " Hi"), Word(0.7, 1.2, " there.")),
    )
    (out,) = assign_speakers([seg], TURNS)
    assert (out.start, out.end, out.text, out.speaker) == (0.0, 1.9, "Hi there.", "x")


def test_segment_without_words_takes_the_speaker_of_its_span() -> None:
    (out,) = assign_speakers([Segment(id=0, start=2.1, end=3.9, text="x")], TURNS)
    assert out.speaker == "y"


def test_labels_follow_first_appearance_and_keep_known_names() -> None:
    seg = _segment([(2.1, 2.5, "first"), (0.2, 0.4, "second")])
    attributed = assign_speakers([seg], TURNS)
    assert speaker_labels(attributed, TURNS) == {"y": "SPEAKER_00", "x": "SPEAKER_01"}
    assert speaker_labels(attributed, TURNS, {"x": "Alice"}) == {"y": "SPEAKER_00", "x": "Alice"}
    relabelled = relabel(attributed, {"y": "SPEAKER_00", "x": "Alice"})
    assert speakers_in_order(relabelled) == ("SPEAKER_00", "Alice")
    assert [w.speaker for s in relabelled for w in s.words] == ["SPEAKER_00", "Alice"]


def test_silent_speakers_are_numbered_after_the_talking_ones() -> None:
    seg = _segment([(2.1, 2.5, "only")])
    labels = speaker_labels(assign_speakers([seg], TURNS), [*TURNS, SpeakerTurn(7, 8, "z")])
    assert labels == {"y": "SPEAKER_00", "x": "SPEAKER_01", "z": "SPEAKER_02"}


def test_letter_labels_are_openais() -> None:
    from scribe.domain.speakers import letter_label

    assert [letter_label(f"SPEAKER_{i:02d}") for i in (0, 1, 25, 26, 27, 51, 52)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
    ]
    assert letter_label("Diane") == "Diane" and letter_label("SPEAKER_X") == "SPEAKER_X"


def test_labelling_piece_by_piece_gives_the_labels_of_the_whole() -> None:
    from scribe.domain.speakers import SpeakerLabeler, speaker_labels

    turns = [SpeakerTurn(0, 1, "z"), SpeakerTurn(1, 2, "k"), SpeakerTurn(2, 3, "q")]
    segments = [
        Segment(0, 0, 1, " a", (Word(0, 1, " a", speaker="k"),), "k"),
        Segment(1, 1, 2, " b", (Word(1, 2, " b", speaker="z"),), "z"),
    ]
    whole = speaker_labels(segments, turns, {"z": "Zoe"})
    labeler = SpeakerLabeler({"z": "Zoe"})
    pieces = [s for segment in segments for s in labeler.relabel([segment])]
    assert labeler.finish(turns) == whole == {"k": "SPEAKER_00", "z": "Zoe", "q": "SPEAKER_01"}
    assert [s.speaker for s in pieces] == ["SPEAKER_00", "Zoe"]
