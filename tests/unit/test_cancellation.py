"""CancelToken and its children: a part of the work stops with the whole, or on its own."""

import pytest

from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import Cancelled


def test_a_child_is_cancelled_with_its_parent_and_its_reason() -> None:
    parent = CancelToken()
    child = parent.child()
    assert not child.cancelled
    parent.cancel("client gone")
    assert child.cancelled and child.wait(0)
    with pytest.raises(Cancelled, match="client gone"):
        child.raise_if_cancelled()


def test_a_child_cancelled_alone_leaves_its_parent_running() -> None:
    parent = CancelToken()
    child = parent.child()
    child.cancel("part done")
    assert child.cancelled
    assert not parent.cancelled
    parent.raise_if_cancelled()


def test_a_child_of_a_cancelled_token_starts_cancelled() -> None:
    parent = CancelToken()
    parent.cancel("too late")
    child = parent.child()
    assert child.cancelled
    assert child.reason == "too late"


def test_the_first_reason_is_kept() -> None:
    token = CancelToken()
    token.cancel("first")
    token.cancel("second")
    assert token.reason == "first"
