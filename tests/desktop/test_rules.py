"""Game rules: dealing, the AI's constrained answer, scoring (DESIGN section 4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.core.rules import BLITZ, CLASSIC, ai_answer, deal, points, speed_bonus

CLASSES = ["bag", "coat", "dress", "sandal", "shirt"]
IMAGES = [(f"{i:064x}", CLASSES[i % len(CLASSES)]) for i in range(40)]


def test_modes_follow_the_design() -> None:
    assert (CLASSIC.rounds, CLASSIC.seconds_per_round) == (10, 15.0)
    assert BLITZ.is_blitz and BLITZ.total_seconds == 60.0


def test_deal_is_deterministic_per_seed_and_differs_between_seeds() -> None:
    first = deal("seed-a", IMAGES, CLASSES, 10)
    assert deal("seed-a", IMAGES, CLASSES, 10) == first
    assert deal("seed-b", IMAGES, CLASSES, 10) != first


@given(seed=st.text(max_size=20), n_rounds=st.integers(1, 40), n_options=st.integers(2, 8))
def test_every_deal_is_fair(seed: str, n_rounds: int, n_options: int) -> None:
    rounds = deal(seed, IMAGES, CLASSES, n_rounds, n_options)
    assert [r.number for r in rounds] == list(range(1, n_rounds + 1))
    assert len({r.image for r in rounds}) == n_rounds  # never the same image twice
    for r in rounds:
        assert r.truth in r.options
        assert len(set(r.options)) == len(r.options) == min(n_options, len(CLASSES))
        assert dict(IMAGES)[r.image] == r.truth


def test_truth_position_is_shuffled() -> None:
    positions = {r.options.index(r.truth) for r in deal("x", IMAGES, CLASSES, 40)}
    assert len(positions) > 1


def test_deal_refuses_impossible_requests() -> None:
    with pytest.raises(ValueError, match="Cannot deal 41 rounds from 40 images"):
        deal("s", IMAGES, CLASSES, 41)
    with pytest.raises(ValueError, match="at least two classes"):
        deal("s", IMAGES[:1], ["bag"], 1)
    with pytest.raises(ValueError, match="not a class"):
        deal("s", [("0" * 64, "hat")], CLASSES, 1)


def test_ai_answers_among_the_shown_options_and_records_its_top1() -> None:
    probs = {"bag": 0.6, "coat": 0.25, "dress": 0.1, "sandal": 0.05, "shirt": 0.0}
    answer = ai_answer(probs, ("coat", "dress", "sandal"))
    assert (answer.answer, answer.confidence, answer.top1) == ("coat", 250, "bag")


def test_ai_answer_ties_go_to_the_earlier_option_and_unknown_options_fail() -> None:
    assert ai_answer({"a": 0.5, "b": 0.5}, ("b", "a")).answer == "b"
    with pytest.raises(ValueError, match="does not know"):
        ai_answer({"a": 1.0}, ("a", "z"))


@pytest.mark.parametrize(
    ("elapsed", "bonus"), [(0.0, 5), (1.99, 5), (2.0, 4), (7.5, 2), (9.99, 1), (10.0, 0), (14.0, 0)]
)
def test_speed_bonus(elapsed: float, bonus: int) -> None:
    assert speed_bonus(elapsed) == bonus


def test_points_by_difficulty_and_a_perfect_classic_session_is_350_on_hard() -> None:
    assert points(True, 0.5, "easy") == 15
    assert points(True, 3.0, "medium") == 24
    assert points(False, 0.5, "hard") == 0
    assert sum(points(True, 0.1, "hard") for _ in range(CLASSIC.rounds)) == 350
    with pytest.raises(ValueError, match="Unknown difficulty"):
        points(True, 1.0, "nightmare")
