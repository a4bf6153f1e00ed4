"""Dealing a game (docs/design.md §4): the rounds a session seed deals, and the AI's answer among the shown options.

`DealtRound` is the one round type of the game: the offline deal (`deal`, from the session seed) and the ranked
deal (`game_rules.ranked_deal`, from the server's seed) both produce it, and a finished ranked session is checked
against the same type.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from game_rules.answer_rules import OPTIONS, AnswerRule
from game_rules.commitment import quantise_confidence
from game_rules.modes import DEFAULT_OPTIONS


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
        dealt.append(DealtRound(number=number, image=sha, options=tuple(options), truth=truth))
    return dealt


@dataclass(frozen=True)
class AiAnswer:
    """The AI's answer, its per-mille confidence, and its unconstrained top-1.

    The answer is among the shown options when the rule lets the AI see them; under a blind rule it is the top-1
    and may be a class that was not shown (`is_shown` is then False: it is wrong whatever the truth).
    """

    answer: str
    confidence: int
    top1: str
    rule: str = OPTIONS.name

    def is_shown(self, options: Sequence[str]) -> bool:
        return self.answer in options


def ai_answer(probabilities: Mapping[str, float], options: Sequence[str], rule: AnswerRule = OPTIONS) -> AiAnswer:
    """The AI's answer by `rule` (docs/design.md §4); confidence is the answer's probability in per-mille.

    With a rule that sees the options: the most probable class among them (ties: the earlier option). With a blind
    rule: the most probable class of all (ties: the earlier class in the probabilities' order, the card's order).
    The probabilities must already come from the rule's view of the image (`view_px`).
    """
    if not options:
        raise ValueError("A round needs at least one option.")
    missing = [o for o in options if o not in probabilities]
    if missing:
        raise ValueError(f"The model does not know the option(s) {missing}.")
    top1 = max(probabilities, key=lambda label: probabilities[label])
    if rule.sees_options:
        answer = max(options, key=lambda label: (probabilities[label], -options.index(label)))
    else:
        answer = top1
    return AiAnswer(answer, quantise_confidence(probabilities[answer]), top1, rule.name)
