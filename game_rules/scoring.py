"""Points, time-outs and plausibility bounds of a game (docs/design.md §4), as both the game and the server apply them.

Answer times are integer milliseconds wherever scoring happens. The game measures float seconds on its monotonic
clock and turns them into milliseconds with `to_ms` before it scores or stores them; the server measures its own
clock's difference and turns it into milliseconds the same way. So a time is rounded once, by one rule, and the
game's points for a round are exactly the points the server computes again from the uploaded milliseconds.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

DIFFICULTIES = ("easy", "medium", "hard")
BASE_POINTS = dict(zip(DIFFICULTIES, (10, 20, 30), strict=True))
SPEED_BONUS_MAX = 5
SPEED_STEP_MS = 2000


def to_ms(seconds: float) -> int:
    """A measured time in whole milliseconds, rounded half up: 1.9996 s -> 2000 ms, 0.0005 s -> 1 ms.

    The rounding works on the decimal the float prints as, so 1.0005 s is 1001 ms although the nearest binary
    float is a hair below 1.0005 (plain `round(s * 1000)` would say 1000 here, and round half to even elsewhere).

    Raises:
        ValueError: a negative, infinite or NaN time (a clock that went backwards is a bug, not a score).
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"An answer time must be a finite, non-negative number of seconds, got {seconds!r}.")
    return int(Decimal(repr(float(seconds))).scaleb(3).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def is_timed_out(elapsed_ms: int, limit_ms: int | None) -> bool:
    """True when an answer after `elapsed_ms` comes too late for a limit of `limit_ms` (None: no limit).

    An answer arriving exactly at the limit is late (`>=`). A round's time is the half-open interval
    [0, limit), like the speed bonus's 2-second steps: at the limit the clock reads 0, and the game's timer ends
    the round with a time-out at that very moment, so a click stamped with the same millisecond must get the same
    verdict as the timer. It also keeps stored times unambiguous: the game and the server cap a late round's time
    at the limit, and a stored time equal to the limit therefore always reads as "timed out".
    """
    return limit_ms is not None and elapsed_ms >= limit_ms


def speed_bonus(elapsed_ms: int) -> int:
    """max(0, 5 − floor(t / 2 s)): 5 under 2 s, down to 0 from 10 s on."""
    if elapsed_ms < 0:
        raise ValueError(f"Elapsed time cannot be negative ({elapsed_ms} ms).")
    return max(0, SPEED_BONUS_MAX - elapsed_ms // SPEED_STEP_MS)


def points(*, is_correct: bool, elapsed_ms: int, difficulty: str) -> int:
    """Points for one answer: base (by difficulty) + speed bonus when correct (and in time), else 0.

    Raises:
        ValueError: an unknown difficulty or a negative time.
    """
    if difficulty not in BASE_POINTS:
        raise ValueError(f"Unknown difficulty {difficulty!r}; expected one of {list(BASE_POINTS)}.")
    return BASE_POINTS[difficulty] + speed_bonus(elapsed_ms) if is_correct else 0


def max_session_score(difficulty: str, rounds: int) -> int:
    """The most a session of `rounds` rounds can score at `difficulty` (every answer right in under 2 s)."""
    return rounds * (BASE_POINTS[difficulty] + SPEED_BONUS_MAX)


def accuracy_ppm(correct: int, rounds: int) -> int:
    """Accuracy in parts per million (integers sort and compare exactly on every database)."""
    return 0 if rounds <= 0 else round(correct * 1_000_000 / rounds)
