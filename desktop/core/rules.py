"""The game's rules (DESIGN section 4): modes, dealing, the AI's constrained answer, scoring. Pure: no Qt, no I/O."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from classifiers.commitment import quantise_confidence
from classifiers.errors import PackError

DEFAULT_OPTIONS = 4
BASE_POINTS = {"easy": 10, "medium": 20, "hard": 30}
SPEED_BONUS_MAX = 5
SPEED_STEP_S = 2.0


@dataclass(frozen=True)
class Mode:
    """A game mode's clock: either a fixed number of timed rounds, or as many rounds as fit in a total time."""

    name: str
    rounds: int | None  # None: unlimited (blitz)
    seconds_per_round: float | None
    total_seconds: float | None

    @property
    def is_blitz(self) -> bool:
        return self.rounds is None


CLASSIC = Mode("classic", rounds=10, seconds_per_round=15.0, total_seconds=None)
BLITZ = Mode("blitz", rounds=None, seconds_per_round=None, total_seconds=60.0)
MODES = {mode.name: mode for mode in (CLASSIC, BLITZ)}


@dataclass(frozen=True)
class DealtRound:
    """One question: an image, the options in shown order, and the truth (kept away from the view until reveal)."""

    number: int  # 1-based
    image: str  # sha256
    options: tuple[str, ...]
    truth: str


def _rng(seed: str, purpose: str) -> random.Random:
    # A string seed hashed with its purpose: the same session seed always deals the same game.
    return random.Random(hashlib.sha256(f"{purpose}:{seed}".encode()).digest())


def deal(
    seed: str,
    images: Sequence[tuple[str, str]],
    classes: Sequence[str],
    n_rounds: int,
    n_options: int = DEFAULT_OPTIONS,
) -> list[DealtRound]:
    """Deal n_rounds distinct images with shuffled options (the truth plus distractors from other classes).

    Args:
        seed: the session seed (any string); equal seeds deal equal sessions.
        images: (sha256, label) of the split the game plays on.
        classes: all labels of the pack.
        n_rounds: how many rounds; at most len(images).

    Raises:
        ValueError: fewer images than rounds, fewer than two classes, or a label outside classes.
    """
    if len(classes) < 2:
        raise ValueError(f"A game needs at least two classes, the pack has {len(classes)}.")
    if n_rounds > len(images):
        raise ValueError(f"Cannot deal {n_rounds} rounds from {len(images)} images.")
    known = set(classes)
    rng = _rng(seed, "deal")
    chosen = rng.sample(sorted(images), n_rounds)
    n_options = max(2, min(n_options, len(classes)))
    dealt = []
    for number, (sha, truth) in enumerate(chosen, start=1):
        if truth not in known:
            raise ValueError(f"Image {sha[:12]} has label {truth!r}, which is not a class of the pack.")
        distractors = rng.sample(sorted(known - {truth}), n_options - 1)
        options = [truth, *distractors]
        rng.shuffle(options)
        dealt.append(DealtRound(number, sha, tuple(options), truth))
    return dealt


@dataclass(frozen=True)
class AiAnswer:
    """The AI's answer among the shown options, its per-mille confidence, and its unconstrained top-1."""

    answer: str
    confidence: int
    top1: str


def ai_answer(probabilities: Mapping[str, float], options: Sequence[str]) -> AiAnswer:
    """The most probable class among the shown options (ties: the earlier option); confidence is its probability."""
    if not options:
        raise ValueError("A round needs at least one option.")
    missing = [o for o in options if o not in probabilities]
    if missing:
        raise ValueError(f"The model does not know the option(s) {missing}.")
    answer = max(options, key=lambda label: (probabilities[label], -options.index(label)))
    top1 = max(probabilities, key=lambda label: probabilities[label])
    return AiAnswer(answer, quantise_confidence(probabilities[answer]), top1)


def speed_bonus(elapsed_s: float) -> int:
    """max(0, 5 − floor(t / 2 s)) for t < 10 s, else 0."""
    if elapsed_s < 0:
        raise ValueError(f"Elapsed time cannot be negative ({elapsed_s}).")
    return max(0, SPEED_BONUS_MAX - math.floor(elapsed_s / SPEED_STEP_S))


def points(correct: bool, elapsed_s: float, difficulty: str) -> int:
    """Points for one answer: base (by difficulty) + speed bonus when correct, else 0."""
    if difficulty not in BASE_POINTS:
        raise ValueError(f"Unknown difficulty {difficulty!r}; expected one of {list(BASE_POINTS)}.")
    return BASE_POINTS[difficulty] + speed_bonus(elapsed_s) if correct else 0


def keep_playable(candidates: Sequence[DealtRound], playable: set[str], n_rounds: int) -> list[DealtRound]:
    """The first n_rounds candidates whose image is playable (decodes), renumbered 1..n.

    Raises:
        PackError: fewer than n_rounds playable candidates.
    """
    kept = [r for r in candidates if r.image in playable][:n_rounds]
    if len(kept) < n_rounds:
        raise PackError(
            f"Only {len(kept)} of the dealt images could be read; {n_rounds} are needed. "
            "The pack's image files may be damaged: reinstall or rebuild it."
        )
    return [replace(r, number=i) for i, r in enumerate(kept, start=1)]
