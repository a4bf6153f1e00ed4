"""The chance test: a model no better than guessing is flagged, with the size of its test split taken into account."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from classifiers.chance import ADVICE, binomial_tail, chance_of_metrics, check_chance
from classifiers.metrics import classification_metrics

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "models"


def test_a_small_test_split_cannot_tell_37_percent_from_a_third() -> None:
    check = check_chance(10 / 27, 27, 3)
    assert check.is_at_chance
    assert check.chance == pytest.approx(1 / 3)
    line = check.describe()
    assert "at chance" in line and "27 test images" in line and "33.3%" in line and ADVICE in line


def test_a_large_test_split_at_88_percent_is_not_at_chance() -> None:
    check = check_chance(0.88, 1500, 10)
    assert not check.is_at_chance
    assert check.p_value < 1e-100
    assert check.describe().startswith("better than chance")


def test_a_significant_but_tiny_gain_is_still_at_chance() -> None:
    check = check_chance(0.12, 10_000, 10)  # p is tiny, but 2 points above guessing is no opponent
    assert check.p_value < 0.01
    assert check.is_at_chance


def test_the_majority_class_is_the_baseline_of_an_unbalanced_split() -> None:
    assert not check_chance(0.8, 200, 2).is_at_chance
    check = check_chance(0.8, 200, 2, majority_share=0.8)  # "always say the big class" does as well
    assert check.chance == 0.8 and check.is_at_chance


def test_no_test_images_measure_nothing() -> None:
    check = check_chance(0.0, 0, 3)
    assert check.is_at_chance and check.p_value is None
    assert "no test images" in check.describe()
    assert chance_of_metrics({"test_accuracy": 0.0, "per_class": {}, "confusion": [], "n_test": 0}).is_at_chance


@pytest.mark.parametrize("args", [(0.5, 10, 0), (0.5, -1, 3), (1.5, 10, 3)])
def test_impossible_numbers_are_refused(args: tuple) -> None:
    with pytest.raises(ValueError):
        check_chance(*args)


@pytest.mark.parametrize(("k", "n", "p"), [(10, 27, 1 / 3), (0, 5, 0.5), (1320, 1500, 0.1), (15, 20, 0.5), (3, 3, 0.2)])
def test_the_binomial_tail_agrees_with_scipy(k: int, n: int, p: float) -> None:
    expected = binomtest(k, n, p, alternative="greater").pvalue
    assert binomial_tail(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_card_metrics_are_judged_with_their_class_balance() -> None:
    truth = np.array([0] * 18 + [1] * 1 + [2] * 1)
    always_zero = np.tile([1.0, 0.0, 0.0], (20, 1))
    check = chance_of_metrics(classification_metrics(truth, always_zero, ["a", "b", "c"]))
    assert check.accuracy == 0.9 and check.chance == 0.9 and check.is_at_chance
    assert chance_of_metrics({}) is None


def test_no_shipped_model_is_at_chance() -> None:
    for card in sorted(ASSETS.glob("*/model.json")):
        check = chance_of_metrics(json.loads(card.read_text(encoding="utf-8"))["metrics"])
        assert check is not None and not check.is_at_chance, card.parent.name
