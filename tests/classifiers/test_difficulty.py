"""Difficulty terciles (docs/design.md §3): weakest models are easy opponents, strongest are hard."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifiers.card import InputSpec, ModelCard
from classifiers.difficulty import assign_difficulties, tier_boundaries


def _card(model_id: str, accuracy: float | None) -> ModelCard:
    metrics = {} if accuracy is None else {"test_accuracy": accuracy}
    return ModelCard(
        id=model_id,
        title=model_id,
        family="shallow",
        variant="svm",
        pack_id="p",
        classes=["a", "b"],
        input=InputSpec(kind="image", height=8, width=8),
        metrics=metrics,
    )


def test_no_models() -> None:
    assert assign_difficulties([]) == {}


def test_one_model_is_medium() -> None:
    assert assign_difficulties([_card("only", 0.9)]) == {"only": "medium"}


def test_two_models_are_easy_and_hard() -> None:
    assert assign_difficulties([_card("strong", 0.9), _card("weak", 0.5)]) == {"weak": "easy", "strong": "hard"}


def test_three_models_get_one_level_each_by_accuracy() -> None:
    cards = [_card("b", 0.7), _card("c", 0.6), _card("a", 0.8)]
    assert assign_difficulties(cards) == {"c": "easy", "b": "medium", "a": "hard"}


def test_six_models_get_two_per_level() -> None:
    cards = [_card(f"m{i}", accuracy) for i, accuracy in enumerate([0.5, 0.95, 0.6, 0.9, 0.7, 0.8])]
    levels = assign_difficulties(cards)
    assert levels == {"m0": "easy", "m2": "easy", "m4": "medium", "m5": "medium", "m3": "hard", "m1": "hard"}


@pytest.mark.parametrize(("n", "counts"), [(4, (2, 1, 1)), (5, (2, 2, 1)), (7, (3, 2, 2)), (9, (3, 3, 3))])
def test_level_sizes(n: int, counts: tuple[int, int, int]) -> None:
    levels = assign_difficulties([_card(f"m{i}", i / 10) for i in range(n)])
    tally = Counter(levels.values())
    assert (tally["easy"], tally["medium"], tally["hard"]) == counts


def test_ties_are_broken_by_id() -> None:
    cards = [_card("zeta", 0.8), _card("alpha", 0.8)]
    assert assign_difficulties(cards) == {"alpha": "easy", "zeta": "hard"}
    assert assign_difficulties(list(reversed(cards))) == {"alpha": "easy", "zeta": "hard"}


def test_missing_accuracy_counts_as_zero() -> None:
    cards = [_card("untested", None), _card("poor", 0.1), _card("good", 0.9)]
    assert assign_difficulties(cards) == {"untested": "easy", "poor": "medium", "good": "hard"}


def test_every_permutation_gives_the_same_levels() -> None:
    cards = [_card("a", 0.7), _card("b", 0.7), _card("c", 0.9), _card("d", 0.2), _card("e", 0.7)]
    expected = assign_difficulties(cards)
    for order in itertools.permutations(cards):
        assert assign_difficulties(order) == expected


_ORDER = {"easy": 0, "medium": 1, "hard": 2}


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefgh"), st.sampled_from([0.1, 0.5, 0.5, 0.9, 1.0])),
        min_size=1,
        max_size=8,
        unique_by=lambda item: item[0],
    ),
    st.randoms(),
)
def test_levels_are_deterministic_and_monotone_in_accuracy(items: list[tuple[str, float]], rng) -> None:
    cards = [_card(model_id, accuracy) for model_id, accuracy in items]
    levels = assign_difficulties(cards)
    shuffled = list(cards)
    rng.shuffle(shuffled)
    assert assign_difficulties(shuffled) == levels
    assert set(levels) == {card.id for card in cards}
    for a, b in itertools.permutations(cards, 2):
        if a.test_accuracy < b.test_accuracy:
            assert _ORDER[levels[a.id]] <= _ORDER[levels[b.id]]
    if len(cards) >= 2:  # the weakest model is always easy, the strongest hard
        assert Counter(levels.values())["easy"] >= 1
        assert Counter(levels.values())["hard"] >= 1


def test_tier_boundaries_pair_the_closest_models_across_each_line() -> None:
    cards = [_card(name, accuracy) for name, accuracy in [("a", 0.5), ("b", 0.6), ("c", 0.7), ("d", 0.8), ("e", 0.9)]]
    levels = assign_difficulties(cards)  # a, b easy; c, d medium; e hard
    pairs = [(lower.id, upper.id) for lower, upper in tier_boundaries(cards, levels)]
    assert pairs == [("b", "c"), ("d", "e")]


def test_two_models_have_one_boundary_and_one_model_none() -> None:
    two = [_card("weak", 0.5), _card("strong", 0.9)]
    assert [(lo.id, hi.id) for lo, hi in tier_boundaries(two, assign_difficulties(two))] == [("weak", "strong")]
    one = [_card("only", 0.9)]
    assert tier_boundaries(one, assign_difficulties(one)) == []
