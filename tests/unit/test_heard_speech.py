"""What segmentation heard so far, and the order that lets CAM++ skip silent blocks."""

from __future__ import annotations

import numpy as np

from scribe.adapters.diarization.embedded.heard import HeardSpeech, interleave

# Three batches of 10 s windows every 1 s, 16 windows each: 0-25, 16-41 and 32-50 s.
SPANS = [(0.0, 25.0), (16.0, 41.0), (32.0, 50.0)]


def test_a_stretch_is_silent_only_once_every_batch_reading_it_heard_nobody() -> None:
    heard = HeardSpeech(SPANS, margin=1.0)
    assert not heard.silent(20.0, 30.0)  # nothing finished yet
    heard.record(0, np.array([2.0, 3.5]))
    assert not heard.silent(20.0, 30.0)  # batch 1 reads 16-41 s too, and has not finished
    assert heard.silent(10.0, 14.0)  # only batch 0 reads 9-15 s
    heard.record(1, np.array([40.5]))
    assert heard.silent(20.0, 30.0)
    assert not heard.silent(30.0, 40.0)  # 40.5 s is inside the 1 s margin
    heard.record(2, np.array([], dtype=np.float64))
    assert heard.silent(42.0, 50.0)
    assert not heard.silent(3.0, 4.0)


def test_times_need_not_come_in_order() -> None:
    heard = HeardSpeech([(0.0, 10.0)], margin=0.0)
    heard.record(0, np.array([9.0, 1.0, 5.0]))
    assert not heard.silent(4.5, 5.5)
    assert heard.silent(6.0, 8.5)


def test_the_last_batch_reading_a_stretch() -> None:
    heard = HeardSpeech(SPANS, margin=1.0)
    assert heard.last_batch_reading(10.0) == 0
    assert heard.last_batch_reading(20.0) == 1  # batch 1 starts at 16 s
    assert heard.last_batch_reading(31.5) == 2  # 32.5 s with the margin
    assert HeardSpeech([]).last_batch_reading(5.0) == 0


def test_each_block_comes_one_batch_after_the_last_it_waits_for() -> None:
    heard = HeardSpeech(SPANS, margin=1.0)
    ends = [10.0, 20.0, 30.0, 40.0, 50.0]  # five 10 s blocks, pieces 3 to 7
    order = interleave(3, ends, heard)
    assert sorted(order) == list(range(8))
    assert order == [0, 1, 3, 2, 4, 5, 6, 7]
    for block, end in enumerate(ends):
        waits_for = heard.last_batch_reading(end)
        assert order.index(3 + block) > order.index(waits_for)


def test_blocks_without_batches_still_run() -> None:
    assert interleave(0, [10.0, 20.0], HeardSpeech([])) == [0, 1]
