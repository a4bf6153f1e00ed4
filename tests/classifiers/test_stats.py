"""The exact McNemar test that says whether two models' test results differ by more than chance."""

from __future__ import annotations

import math

import pytest

from classifiers.stats import discordant_counts, mcnemar_exact


@pytest.mark.parametrize(
    ("b", "c", "expected"),
    [
        (10, 2, 0.0386),  # 2 * (1 + 12 + 66) / 2**12
        (2, 10, 0.0386),  # two-sided: the order of the models does not matter
        (0, 5, 0.0625),  # 2 / 2**5
        (49, 31, 0.0567),  # scipy.stats.binomtest(31, 80).pvalue
    ],
)
def test_known_p_values(b: int, c: int, expected: float) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(("b", "c"), [(0, 0), (1, 1), (7, 7), (400, 400), (3, 4)])
def test_equal_or_nearly_equal_counts_give_no_evidence(b: int, c: int) -> None:
    assert mcnemar_exact(b, c) == 1.0


def test_a_large_test_split_stays_exact() -> None:
    # 10,000 discordant images, far beyond where floating-point binomial terms underflow one by one
    assert 0 < mcnemar_exact(5200, 4800) < 1e-4
    assert math.isclose(mcnemar_exact(5000, 5001), 1.0)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="b=-1"):
        mcnemar_exact(-1, 3)


def test_discordant_counts_pair_the_images() -> None:
    first = [True, True, False, False, True]
    second = [True, False, True, False, False]
    assert discordant_counts(first, second) == (2, 1)
    with pytest.raises(ValueError, match="equal lengths"):
        discordant_counts(first, second[:3])
