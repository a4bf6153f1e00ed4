"""The daily challenge's seed and day streaks (docs/design.md §4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from game_rules.daily import daily_seed, day_streak, is_daily_seed, longest_streak, utc_day
from game_rules.deal import deal

CLASSES = ["bag", "coat", "dress", "sandal", "shirt"]
IMAGES = [(f"{i:064x}", CLASSES[i % len(CLASSES)]) for i in range(60)]
DAY = date(2026, 11, 30)


def test_everyone_gets_the_same_deal_on_a_day_and_a_new_one_the_next_day() -> None:
    today = deal(daily_seed("fashion-mnist", DAY), IMAGES, CLASSES, 10)
    assert deal(daily_seed("fashion-mnist", DAY), IMAGES, CLASSES, 10) == today
    assert deal(daily_seed("fashion-mnist", DAY + timedelta(days=1)), IMAGES, CLASSES, 10) != today
    assert deal(daily_seed("other-pack", DAY), IMAGES, CLASSES, 10) != today
    assert is_daily_seed(daily_seed("p", DAY)) and not is_daily_seed("3f2a")


def test_the_day_is_the_utc_day() -> None:
    late_in_new_york = datetime(2026, 11, 30, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert utc_day(late_in_new_york) == date(2026, 12, 1)
    assert utc_day(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == DAY


def test_a_streak_counts_consecutive_days_and_survives_until_today_is_over() -> None:
    played = [DAY - timedelta(days=n) for n in (1, 2, 3, 5)]
    assert day_streak(played, DAY) == 3  # today not played yet: yesterday's streak still stands
    assert day_streak([*played, DAY], DAY) == 4
    assert day_streak(played, DAY + timedelta(days=1)) == 0  # a whole day missed
    assert longest_streak([*played, DAY]) == 4
    assert longest_streak([]) == 0
