"""The AI's answer rules (docs/design.md §4): what a difficulty lets the AI see before it answers.

Difficulty is a real handicap, not only a weaker model: the easy AI names what it thinks the picture is without
seeing the options (so it can be wrong by naming a class that is not even shown), and both easy and medium look at
a small thumbnail of the image instead of the image itself. The hard AI sees the image and the options.
`benchmarks/contest.py` calibrates these choices against simulated players.

A rule's name is part of every commitment record that uses it (§5), so a rule never changes meaning: a new
handicap gets a new name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerRule:
    """What the AI sees before it commits to an answer.

    Attributes:
        name: the stable name written into commitment records.
        sees_options: True: the AI picks among the shown options; False: it names its top class among all.
        view_px: the AI sees the image shrunk to view_px × view_px pixels (then scaled back up to the image's
            size for the model); None: the image itself.
        summary: one sentence a player reads.
    """

    name: str
    sees_options: bool
    view_px: int | None
    summary: str


OPTIONS = AnswerRule("options", True, None, "The AI sees the picture and your options, and picks among them.")
OPTIONS_7PX = AnswerRule(
    "options-7px", True, 7, "The AI squints: it sees a 7×7 thumbnail of the picture, and your options."
)
# Medium's rule until the opponents were retrained on the whole pack, when they kept 88 % on it (README, "Difficulty,
# calibrated"); kept so that the records made with it still verify.
OPTIONS_10PX = AnswerRule(
    "options-10px", True, 10, "The AI squints: it sees a 10×10 thumbnail of the picture, and your options."
)
BLIND_THUMBNAIL = AnswerRule(
    "top1-8px",
    False,
    8,
    "The AI squints and guesses blind: it sees an 8×8 thumbnail and names a class without seeing your options.",
)
ANSWER_RULES: dict[str, AnswerRule] = {
    rule.name: rule for rule in (OPTIONS, OPTIONS_7PX, OPTIONS_10PX, BLIND_THUMBNAIL)
}
DIFFICULTY_RULES: dict[str, AnswerRule] = {"easy": BLIND_THUMBNAIL, "medium": OPTIONS_7PX, "hard": OPTIONS}


class UnknownRuleError(ValueError):
    """A record or a setting names an answer rule this version of the game does not know."""


def answer_rule(name: str) -> AnswerRule:
    """The rule called `name`.

    Raises:
        UnknownRuleError: no such rule (the message lists the known ones).
    """
    try:
        return ANSWER_RULES[name]
    except KeyError:
        raise UnknownRuleError(f"Unknown AI answer rule {name!r}; this game knows {sorted(ANSWER_RULES)}.") from None


def rule_for_difficulty(difficulty: str) -> AnswerRule:
    """The handicap of a difficulty (unknown difficulties play by the full, unhandicapped rule).

    The ranked server deals by the full rule whatever the difficulty label, so an unknown label stays fair.
    """
    return DIFFICULTY_RULES.get(difficulty, OPTIONS)
