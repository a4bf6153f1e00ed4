"""Difficulty levels (docs/design.md §3): per pack, models ranked by test accuracy and split into terciles; the
pairs of models whose paired test results say whether adjacent tiers really differ (`tier_boundaries`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from classifiers.card import ModelCard
from game_rules.scoring import DIFFICULTIES


def _ranking(cards: Iterable[ModelCard]) -> list[ModelCard]:
    """Weakest first: by test accuracy (missing counts as 0), ties broken by id."""
    return sorted(cards, key=lambda card: (card.test_accuracy or 0.0, card.id))


def assign_difficulties(cards: Iterable[ModelCard]) -> dict[str, str]:
    """Map model id -> easy|medium|hard for models of one pack.

    Models are ordered by test accuracy (missing accuracy counts as 0), ties broken by id, so the result depends
    only on the cards. With n models, the model at rank i (0 = weakest) gets tercile floor(3·i / n); one model is
    "medium", two are "easy" and "hard".
    """
    ordered = _ranking(cards)
    n = len(ordered)
    if n == 1:
        return {ordered[0].id: "medium"}
    if n == 2:
        return {ordered[0].id: "easy", ordered[1].id: "hard"}
    return {card.id: DIFFICULTIES[3 * rank // n] for rank, card in enumerate(ordered)}


def tier_boundaries(cards: Iterable[ModelCard], levels: Mapping[str, str]) -> list[tuple[ModelCard, ModelCard]]:
    """The model pairs that decide whether adjacent tiers differ: for each pair of adjacent occupied tiers (easy
    and medium, medium and hard; easy and hard when no model is medium), the strongest model of the lower tier
    and the weakest of the upper one. Those two are the closest across the line between the tiers, so when they
    do not differ significantly, neither do the tiers.

    Args:
        cards: the models of one pack.
        levels: model id -> difficulty, as `assign_difficulties` gave it.

    Returns:
        (lower model, upper model) pairs, easiest boundary first.
    """
    tiers: dict[str, list[ModelCard]] = {}
    for card in _ranking(cards):
        tiers.setdefault(levels[card.id], []).append(card)
    occupied = [tiers[level] for level in DIFFICULTIES if level in tiers]
    return [(lower[-1], upper[0]) for lower, upper in zip(occupied, occupied[1:], strict=False)]
