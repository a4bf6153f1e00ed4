"""Is a model's test accuracy better than guessing? A one-sided exact binomial test against chance, in pure Python.

Chance is the better of two guessers: a uniform one (1 / n_classes) and one that always answers the test split's
majority class. A model is *at chance* when its accuracy is not significantly above that (one-sided binomial test,
p >= `ALPHA`, so a 27-image test split cannot tell 37 % from 33 %), or is within `MARGIN` of it (10,000 images
make 12 % significant against 10 %, yet nobody wants to play that model). No test images: nothing was measured,
so it counts as at chance too. Pure Python (no SciPy): the game, the trainer and the server can all ask.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ALPHA = 0.01  # one-sided significance level of "better than chance"
MARGIN = 0.05  # an accuracy less than this far above chance counts as chance, however many test images
ADVICE = "too few images, too few epochs, or try the small-data path"


@dataclass(frozen=True)
class ChanceCheck:
    """The verdict of `check_chance` with the numbers behind it.

    Attributes:
        accuracy: the model's test accuracy (0..1).
        n_test: test images it was measured on.
        chance: the accuracy of the better guesser (uniform or majority class).
        p_value: P(at least this many right | guessing at `chance`); None when n_test is 0.
        is_at_chance: not better than chance by the test (see the module docstring).
    """

    accuracy: float
    n_test: int
    chance: float
    p_value: float | None
    is_at_chance: bool

    def describe(self, split: str = "test") -> str:
        """One line for a user: "at chance (37.0 % on 27 test images, chance 33.3 %, p = 0.41): too few ..."."""
        if self.n_test == 0:
            return f"at chance: no {split} images to measure it on; {ADVICE}"
        numbers = (
            f"{self.accuracy:.1%} on {self.n_test} {split} images, chance {self.chance:.1%}, p = {self.p_value:.2g}"
        )
        if self.is_at_chance:
            return f"at chance ({numbers}): {ADVICE}"
        return f"better than chance ({numbers})"


def binomial_tail(successes: int, trials: int, p: float) -> float:
    """P(X >= successes) for X ~ Binomial(trials, p), exactly (summed in log space, so 10,000 trials are fine)."""
    if successes <= 0:
        return 1.0
    if successes > trials:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(trials + 1) - math.lgamma(k + 1) - math.lgamma(trials - k + 1) + k * log_p + (trials - k) * log_q
        for k in range(successes, trials + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def check_chance(
    accuracy: float,
    n_test: int,
    n_classes: int,
    *,
    majority_share: float | None = None,
    alpha: float = ALPHA,
    margin: float = MARGIN,
) -> ChanceCheck:
    """Whether `accuracy` on `n_test` images of `n_classes` classes is at chance (see the module docstring).

    Args:
        majority_share: the largest class's share of the test split, when known (an unbalanced split makes
            "always say the big class" a better guesser than a uniform one).

    Raises:
        ValueError: n_classes < 1, n_test < 0, or accuracy outside 0..1.
    """
    if n_classes < 1 or n_test < 0 or not 0.0 <= accuracy <= 1.0:
        raise ValueError(
            f"check_chance needs n_classes >= 1, n_test >= 0, 0 <= accuracy <= 1; got "
            f"{n_classes}, {n_test}, {accuracy}."
        )
    chance = max(1.0 / n_classes, majority_share or 0.0)
    if n_test == 0:
        return ChanceCheck(accuracy, 0, chance, None, True)
    hits = round(accuracy * n_test)
    p_value = binomial_tail(hits, n_test, chance)
    at_chance = p_value >= alpha or accuracy < chance + margin
    return ChanceCheck(accuracy, n_test, chance, p_value, at_chance)


def chance_of_metrics(metrics: dict[str, Any]) -> ChanceCheck | None:
    """`check_chance` of a model card's metrics (`classification_metrics`' keys); None when they hold no accuracy
    or no class count (a card without measurements is not judged here)."""
    accuracy = metrics.get("test_accuracy")
    confusion = metrics.get("confusion") or []
    n_classes = len(confusion) or len(metrics.get("per_class") or {})
    support = [sum(row) for row in confusion]
    n_test = int(metrics.get("n_test", sum(support)))
    if accuracy is None or (n_classes == 0 and n_test > 0):
        return None
    if n_test == 0:  # an empty test split measured nothing (its metrics then list no classes either)
        return check_chance(0.0, 0, max(n_classes, 1))
    majority = max(support) / n_test if support and n_test else None
    return check_chance(float(accuracy), n_test, n_classes, majority_share=majority)


def check_chance_on_split(accuracy: float, labels: Sequence[int], n_classes: int) -> ChanceCheck:
    """`check_chance` of an accuracy measured on a split with these integer labels (its majority class counted)."""
    counts = Counter(int(label) for label in labels)
    majority = max(counts.values()) / len(labels) if counts else None
    return check_chance(accuracy, len(labels), n_classes, majority_share=majority)


def is_at_chance(metrics: dict[str, Any]) -> bool:
    """Whether a card's metrics are at chance; False when they cannot be judged (`chance_of_metrics` is None)."""
    check = chance_of_metrics(metrics)
    return check is not None and check.is_at_chance
