"""The game's modes (docs/design.md §4): classic (10 rounds, 15 s each) and blitz (as many rounds as fit in 60 s).

Blitz's clock counts answer time, and a wrong answer costs `BLITZ_MISS_PENALTY_MS` more of it: without that cost
random keys pressed as fast as the buttons unlock outscored real players (a quarter right, but five times as many
rounds). Ranked play is not a mode of its own here: it uses the classic rules, dealt and timed by the server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from game_rules.scoring import to_ms

# How many options a round shows: 4 by default (fewer when the pack has fewer classes); an upload may claim at
# most MAX_OPTIONS.
DEFAULT_OPTIONS = 4
MAX_OPTIONS = 10
# A blitz round takes at least a glance; this bounds how many rounds an upload may claim.
BLITZ_MAX_ROUNDS = 100

ModeName = Literal["classic", "blitz"]


@dataclass(frozen=True)
class Mode:
    """A game mode's clock: either a fixed number of timed rounds, or as many rounds as fit in a total time."""

    name: str
    rounds: int | None  # None: unlimited (blitz)
    seconds_per_round: float | None
    total_seconds: float | None
    miss_penalty_ms: int = 0  # what a wrong answer costs on the session clock (blitz)

    @property
    def is_blitz(self) -> bool:
        return self.rounds is None

    @property
    def round_ms(self) -> int | None:
        """The time limit of one round in integer milliseconds (None in blitz)."""
        return _ms(self.seconds_per_round)

    @property
    def total_ms(self) -> int | None:
        """The time limit of the whole session in integer milliseconds (None in classic)."""
        return _ms(self.total_seconds)

    def limit_ms(self, used_ms: int) -> int | None:
        """The time the next answer may take: the round's limit, or in blitz what is left of the total after
        `used_ms` of the session clock (`clock_used_ms`: answer time plus miss penalties; None: no limit)."""
        if self.round_ms is not None:
            return self.round_ms
        if self.total_ms is not None:
            return max(0, self.total_ms - used_ms)
        return None

    def charged_ms(self, elapsed_ms: int, *, missed: bool) -> int:
        """What a played round takes off the session clock: its answer time, plus the miss penalty when the player
        answered wrong (a time-out costs no more than its time: it ends the session anyway)."""
        return elapsed_ms + (self.miss_penalty_ms if missed else 0)

    def clock_used_ms(self, rounds: Iterable[tuple[int, bool]]) -> int:
        """The session clock used by played rounds given as (elapsed_ms, missed) pairs, in order."""
        return sum(self.charged_ms(elapsed, missed=missed) for elapsed, missed in rounds)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else to_ms(seconds)


# The modes' clocks in the units the server and the upload body carry (integer milliseconds).
CLASSIC_ROUNDS = 10
CLASSIC_ROUND_MS = 15_000
BLITZ_TOTAL_MS = 60_000
# A wrong blitz answer costs 5 s of the clock: a random masher (a quarter right, instantly) then gains about
# 2.3 points a second against hard, a player with 83.5 % right at 2 s about 10 (docs/design.md §4).
BLITZ_MISS_PENALTY_MS = 5_000

CLASSIC = Mode("classic", rounds=CLASSIC_ROUNDS, seconds_per_round=CLASSIC_ROUND_MS / 1000, total_seconds=None)
BLITZ = Mode(
    "blitz",
    rounds=None,
    seconds_per_round=None,
    total_seconds=BLITZ_TOTAL_MS / 1000,
    miss_penalty_ms=BLITZ_MISS_PENALTY_MS,
)
MODES: dict[str, Mode] = {mode.name: mode for mode in (CLASSIC, BLITZ)}
