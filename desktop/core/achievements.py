"""Achievements: data (id, title, how to earn it) plus a pure predicate over the player's history each.

The home screen shows the earned ones; `newly_earned` tells the end screen which a session just unlocked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from desktop.core.history import SessionRecap
from game_rules.daily import day_streak, longest_streak

FAST_MS = 2000  # the speed bonus's first step: a "fast" answer earns the full bonus


@dataclass(frozen=True)
class History:
    """What achievements look at: finished sessions (any order) and the days a daily challenge was played."""

    sessions: Sequence[SessionRecap]
    daily_days: Sequence[date]
    today: date


@dataclass(frozen=True)
class Achievement:
    id: str
    title: str
    how: str  # one sentence: how to earn it
    is_earned: Callable[[History], bool]


def _won(h: History, difficulty: str | None = None) -> bool:
    return any(s.winner == "player" and (difficulty is None or s.difficulty == difficulty) for s in h.sessions)


def _perfect(h: History) -> bool:
    return any(s.mode == "classic" and s.rounds and s.player_correct == len(s.rounds) for s in h.sessions)


def _fooled_it(h: History) -> bool:
    return any(sum(r.player_correct and not r.ai_correct for r in s.rounds) >= 3 for s in h.sessions)


def _quick_eye(h: History) -> bool:
    return any(sum(r.player_correct and r.elapsed_ms < FAST_MS for r in s.rounds) >= 5 for s in h.sessions)


ACHIEVEMENTS: tuple[Achievement, ...] = (
    Achievement("first-win", "First win", "Beat the AI in any session.", lambda h: _won(h)),
    Achievement("giant-slayer", "Giant slayer", "Beat a hard opponent.", lambda h: _won(h, "hard")),
    Achievement("perfect", "Perfect ten", "Answer every round of a classic session right.", _perfect),
    Achievement("fooled-it", "Sharper than silicon", "Get 3 rounds right that the AI got wrong, in one session.",
                _fooled_it),
    Achievement("quick-eye", "Quick eye", "Answer 5 rounds right in under 2 s each, in one session.", _quick_eye),
    Achievement("daily-3", "Regular", "Play the daily challenge 3 days in a row.",
                lambda h: longest_streak(h.daily_days) >= 3),
    Achievement("daily-7", "Habit", "Play the daily challenge 7 days in a row.",
                lambda h: longest_streak(h.daily_days) >= 7),
)  # fmt: skip


def earned(history: History) -> list[Achievement]:
    """The achievements the history earns, in the order above."""
    return [a for a in ACHIEVEMENTS if a.is_earned(history)]


def newly_earned(before: History, after: History) -> list[Achievement]:
    """What `after` (the history with the latest session) earns that `before` did not."""
    had = {a.id for a in earned(before)}
    return [a for a in earned(after) if a.id not in had]


def current_streak(history: History) -> int:
    """The daily-challenge streak as of today (game_rules.daily.day_streak)."""
    return day_streak(history.daily_days, history.today)
