"""The daily challenge (docs/design.md §4): the same images and options for everyone on a pack on a UTC day.

The challenge is an ordinary classic deal (`game_rules.deal.deal`) whose seed is a pure function of the pack and
the UTC date, so it needs no server: every copy of the game deals it alike, offline. A player plays it once per
day; consecutive days played make a streak.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

DAILY_PREFIX = "daily"


def utc_day(now: datetime) -> date:
    """The UTC calendar day of a moment (a naive datetime is taken as UTC already)."""
    return (now.astimezone(UTC) if now.tzinfo else now).date()


def daily_seed(pack_id: str, day: date) -> str:
    """The session seed of a pack's challenge on a day, e.g. 'daily:fashion-mnist:2026-11-30'."""
    return f"{DAILY_PREFIX}:{pack_id}:{day.isoformat()}"


def is_daily_seed(seed: str) -> bool:
    return seed.startswith(f"{DAILY_PREFIX}:")


def day_streak(days_played: Iterable[date], today: date) -> int:
    """How many consecutive days, ending today, were played.

    A streak survives until the day is over: when today is not played yet, the streak ending yesterday still
    counts (it breaks only if today passes unplayed).
    """
    played = set(days_played)
    day = today if today in played else today - timedelta(days=1)
    streak = 0
    while day in played:
        streak += 1
        day -= timedelta(days=1)
    return streak


def longest_streak(days_played: Iterable[date]) -> int:
    """The longest run of consecutive days played."""
    played = sorted(set(days_played))
    best = run = 0
    previous: date | None = None
    for day in played:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best
