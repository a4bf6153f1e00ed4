"""Error consistency text shown on the end and history screens."""

from __future__ import annotations

from desktop.core.consistency import describe_consistency


def test_needs_enough_rounds() -> None:
    assert "at least 10" in describe_consistency([(1, 1)] * 3)


def test_identical_mistakes_give_kappa_one() -> None:
    pairs = [(1, 1)] * 6 + [(0, 0)] * 4
    text = describe_consistency(pairs)
    assert "κ = 1.00" in text and "same images" in text and "both wrong on 4" in text


def test_opposite_mistakes_are_negative_and_a_constant_rater_is_undefined() -> None:
    assert "κ = -1.00" in describe_consistency([(1, 0)] * 5 + [(0, 1)] * 5)
    assert "undefined" in describe_consistency([(1, 1)] * 8 + [(0, 1)] * 2)
