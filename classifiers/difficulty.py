"""Difficulty levels (docs/design.md §3): per pack, models ranked by test accuracy and split into terciles."""

from __future__ import annotations

from collections.abc import Iterable

from classifiers.card import ModelCard
from game_rules.scoring import DIFFICULTIES


def assign_difficulties(cards: Iterable[ModelCard]) -> dict[str, str]:
    """Map model id -> easy|medium|hard for models of one pack.

    Models are ordered by test accuracy (missing accuracy counts as 0), ties broken by id, so the result depends
    only on the cards. With n models, the model at rank i (0 = weakest) gets tercile floor(3·i / n); one model is
    "medium", two are "easy" and "hard".
    """
    ordered = sorted(cards, key=lambda card: (card.test_accuracy or 0.0, card.id))
    n = len(ordered)
    if n == 1:
        return {ordered[0].id: "medium"}
    if n == 2:
        return {ordered[0].id: "easy", ordered[1].id: "hard"}
    return {card.id: DIFFICULTIES[3 * rank // n] for rank, card in enumerate(ordered)}
