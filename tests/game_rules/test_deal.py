"""Dealing: the rounds a session seed deals and the AI's answer among the shown options (docs/design.md §4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game_rules.answer_rules import UnknownRuleError, answer_rule, rule_for_difficulty
from game_rules.deal import DealtRound, ai_answer, deal

CLASSES = ["bag", "coat", "dress", "sandal", "shirt"]
IMAGES = [(f"{i:064x}", CLASSES[i % len(CLASSES)]) for i in range(40)]


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


def test_a_dealt_round_reads_number_image_options_truth() -> None:
    first = deal("seed-a", IMAGES, CLASSES, 1)[0]
    number, image, options, truth = (first.number, first.image, first.options, first.truth)
    assert first == DealtRound(number, image, options, truth)  # one field order for every deal


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


def test_the_blind_easy_ai_names_its_top_class_even_when_it_is_not_shown() -> None:
    probs = {"bag": 0.6, "coat": 0.25, "dress": 0.1, "sandal": 0.05, "shirt": 0.0}
    blind = ai_answer(probs, ("coat", "dress", "sandal"), rule_for_difficulty("easy"))
    assert (blind.answer, blind.confidence, blind.rule) == ("bag", 600, "top1-8px")
    assert not blind.is_shown(("coat", "dress", "sandal"))
    medium = ai_answer(probs, ("coat", "dress", "sandal"), rule_for_difficulty("medium"))
    assert (medium.answer, medium.rule) == ("coat", "options-7px")
    assert answer_rule("options-10px").view_px == 10  # medium's former rule: its records still verify


def test_each_difficulty_is_a_bigger_handicap_than_the_next() -> None:
    easy, medium, hard = (rule_for_difficulty(d) for d in ("easy", "medium", "hard"))
    assert (easy.sees_options, medium.sees_options, hard.sees_options) == (False, True, True)
    assert easy.view_px and medium.view_px and hard.view_px is None
    assert answer_rule("options") is hard
    with pytest.raises(UnknownRuleError, match="knows"):
        answer_rule("psychic")
