"""Small exact tests for comparing classifiers, in pure Python (the game's dependencies have no scipy)."""

from __future__ import annotations

from collections.abc import Sequence

SIGNIFICANCE = 0.05  # below it, two models' test results differ by more than chance would explain


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar test: the p-value that two classifiers are equally accurate, given the test
    images only the first got right (`b`) and only the second got right (`c`).

    Under the null hypothesis each discordant image is a fair coin, so min(b, c) follows Binomial(b + c, 1/2);
    the p-value is twice its lower tail, capped at 1 (b = c, or no discordant image at all, gives 1).

    Raises:
        ValueError: a negative count.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}.")
    n, k = b + c, min(b, c)
    # exact integers: comb(n, i) built term by term; one division at the end keeps the tail exact for any n
    term, tail = 1, 1
    for i in range(k):
        term = term * (n - i) // (i + 1)
        tail += term
    return min(1.0, 2 * tail / 2**n)


def discordant_counts(first_correct: Sequence[bool], second_correct: Sequence[bool]) -> tuple[int, int]:
    """(b, c) of two classifiers' per-image correctness on the same images, in the same order: b counts the
    images only the first got right, c those only the second got right.

    Raises:
        ValueError: the sequences differ in length (they are not paired).
    """
    if len(first_correct) != len(second_correct):
        raise ValueError(f"paired results need equal lengths, got {len(first_correct)} and {len(second_correct)}.")
    b = sum(1 for x, y in zip(first_correct, second_correct, strict=True) if x and not y)
    c = sum(1 for x, y in zip(first_correct, second_correct, strict=True) if y and not x)
    return b, c
