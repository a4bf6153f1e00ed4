"""Scoring (docs/design.md §4): whole milliseconds, one time-out rule, the speed bonus and the points."""

from __future__ import annotations

import math

import pytest

from game_rules.modes import CLASSIC
from game_rules.scoring import (
    DIFFICULTIES,
    accuracy_ppm,
    is_timed_out,
    max_session_score,
    points,
    speed_bonus,
    to_ms,
)


@pytest.mark.parametrize(
    ("seconds", "ms"),
    [
        (0.0, 0),
        (0.0004, 0),
        (0.0005, 1),
        (1.0005, 1001),
        (1.9994, 1999),
        (1.9995, 2000),
        (1.9996, 2000),
        (15.0, 15_000),
    ],
)
def test_to_ms_rounds_half_up_to_whole_milliseconds(seconds: float, ms: int) -> None:
    assert to_ms(seconds) == ms


@pytest.mark.parametrize("bad", [-0.001, math.inf, math.nan])
def test_to_ms_refuses_times_no_clock_measures(bad: float) -> None:
    with pytest.raises(ValueError, match="finite, non-negative"):
        to_ms(bad)


def test_an_answer_exactly_at_the_limit_is_late() -> None:
    assert not is_timed_out(14_999, 15_000)
    assert is_timed_out(15_000, 15_000)
    assert is_timed_out(15_001, 15_000)
    assert not is_timed_out(10**9, None)  # no limit


@pytest.mark.parametrize(
    ("elapsed_ms", "bonus"),
    [(0, 5), (1_999, 5), (2_000, 4), (7_500, 2), (9_999, 1), (10_000, 0), (14_000, 0)],
)
def test_speed_bonus(elapsed_ms: int, bonus: int) -> None:
    assert speed_bonus(elapsed_ms) == bonus


def test_points_by_difficulty_and_a_perfect_classic_session_is_350_on_hard() -> None:
    assert points(is_correct=True, elapsed_ms=500, difficulty="easy") == 15
    assert points(is_correct=True, elapsed_ms=3_000, difficulty="medium") == 24
    assert points(is_correct=False, elapsed_ms=500, difficulty="hard") == 0
    assert sum(points(is_correct=True, elapsed_ms=100, difficulty="hard") for _ in range(CLASSIC.rounds)) == 350
    assert max_session_score("hard", CLASSIC.rounds) == 350
    with pytest.raises(ValueError, match="Unknown difficulty"):
        points(is_correct=True, elapsed_ms=1_000, difficulty="nightmare")
    with pytest.raises(ValueError, match="cannot be negative"):
        speed_bonus(-1)


def test_difficulties_and_accuracy() -> None:
    assert DIFFICULTIES == ("easy", "medium", "hard")
    assert accuracy_ppm(7, 10) == 700_000 and accuracy_ppm(0, 0) == 0
    assert accuracy_ppm(2, 3) == 666_667
