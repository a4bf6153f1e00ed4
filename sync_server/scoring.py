"""Points and plausibility bounds of a game (DESIGN section 4), as the server applies them.

The desktop keeps the same formula in `desktop/core/rules.py`; the server may not import the desktop package
(import-linter contract), and the formula is three lines, so it is restated here and pinned by the tests.
"""

from __future__ import annotations

import math

BASE_POINTS = {"easy": 10, "medium": 20, "hard": 30}
DIFFICULTIES = tuple(BASE_POINTS)
SPEED_BONUS_MAX = 5
SPEED_STEP_MS = 2000
CLASSIC_ROUNDS = 10
CLASSIC_ROUND_MS = 15_000
BLITZ_TOTAL_MS = 60_000
# A blitz round takes at least a glance; this bounds how many rounds an upload may claim.
BLITZ_MAX_ROUNDS = 100
MAX_OPTIONS = 10


def speed_bonus(elapsed_ms: int) -> int:
    """max(0, 5 − floor(t / 2 s)): 5 under 2 s, down to 0 from 10 s on."""
    if elapsed_ms < 0:
        raise ValueError(f"Elapsed time cannot be negative ({elapsed_ms} ms).")
    return max(0, SPEED_BONUS_MAX - math.floor(elapsed_ms / SPEED_STEP_MS))


def points(*, is_correct: bool, elapsed_ms: int, difficulty: str) -> int:
    """Points for one answer: base (by difficulty) + speed bonus when correct, else 0."""
    if difficulty not in BASE_POINTS:
        raise ValueError(f"Unknown difficulty {difficulty!r}; expected one of {list(BASE_POINTS)}.")
    return BASE_POINTS[difficulty] + speed_bonus(elapsed_ms) if is_correct else 0


def max_session_score(difficulty: str, rounds: int) -> int:
    return rounds * (BASE_POINTS[difficulty] + SPEED_BONUS_MAX)


def accuracy_ppm(correct: int, rounds: int) -> int:
    """Accuracy in parts per million (integers sort and compare exactly on every database)."""
    return 0 if rounds <= 0 else round(correct * 1_000_000 / rounds)
