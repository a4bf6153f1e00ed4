"""The reasons to come back: the daily challenge, streaks, personal bests, achievements, stats and the share text."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from desktop.app import content_roots
from desktop.core.history import RoundRecap, SessionRecap
from desktop.core.share import share_text
from desktop.services.career import Career, DailyAlreadyPlayedError
from desktop.services.catalog import load_catalog
from desktop.services.store import Store
from tests.helpers.fakes import FakeOpponent

PACK = "fashion-mnist"
DAY = date(2026, 11, 30)


@pytest.fixture
def world(tmp_path: Path) -> tuple:
    catalog = load_catalog(content_roots(tmp_path))
    return catalog.packs[PACK], catalog.opponents_for(PACK, "medium")[0], Store(tmp_path / "eyevsai.db")


def _play_daily(store: Store, pack, entry, name: str, day: date, *, wrong_on: set[str] = frozenset()) -> list:
    career = Career(store, store.profile_id(name), today=lambda: day)
    session = career.start_daily(pack, FakeOpponent(entry, set(wrong_on)), session_id=f"{name}-{day}", new_salt=_salt)
    for dealt in session.rounds:
        session.answer(dealt.truth, 1.5)
        store.save_round(session.session_id, session.results[-1])
    store.finish_session(session)
    return [(r.image, r.options) for r in session.rounds]


def _salt() -> str:
    return "ab" * 32


def test_the_daily_challenge_deals_alike_for_two_profiles_and_anew_the_next_day(world: tuple) -> None:
    pack, entry, store = world
    ann = _play_daily(store, pack, entry, "Ann", DAY)
    bob = _play_daily(store, pack, entry, "Bob", DAY)
    assert ann == bob and len(ann) == 10
    assert _play_daily(store, pack, entry, "Ann", DAY + timedelta(days=1)) != ann


def test_the_daily_challenge_plays_once_a_day_and_builds_a_streak(world: tuple) -> None:
    pack, entry, store = world
    for offset in (2, 1, 0):
        _play_daily(store, pack, entry, "Ann", DAY - timedelta(days=offset))
    career = Career(store, store.profile_id("Ann"), today=lambda: DAY)
    today = career.daily(pack)
    assert today.is_played and today.streak == 3 and today.seed == f"daily:{PACK}:{DAY}"
    with pytest.raises(DailyAlreadyPlayedError, match="played today's challenge on Fashion-MNIST already"):
        career.start_daily(pack, FakeOpponent(entry), session_id="again", new_salt=_salt)
    earned = {a.id for a, has in career.achievements() if has}
    assert {"perfect", "quick-eye", "daily-3"} <= earned
    assert "daily-7" not in earned and "first-win" not in earned  # the fake AI was perfect too: draws only
    recaps = career.recaps(PACK)
    assert [r.daily for r in recaps] == [DAY - timedelta(days=n) for n in (2, 1, 0)]
    assert career.personal_bests()[(PACK, "medium", "daily")].player_points == 10 * 25
    assert career.is_personal_best(recaps[0].session_id) and not career.is_personal_best(recaps[1].session_id)


def test_stats_show_each_side_per_class_and_its_confusions(world: tuple) -> None:
    pack, entry, store = world
    images = [e.sha256 for e in pack.available("test")]
    easy = load_catalog(content_roots(store.path.parent)).opponents_for(PACK, "easy")[0]  # blind: no lucky ties
    _play_daily(store, pack, easy, "Ann", DAY, wrong_on=set(images))  # the AI is wrong on every image
    stats = Career(store, store.profile_id("Ann"), today=lambda: DAY).stats(pack)
    assert stats.sessions == 1 and sum(t.total for t in stats.player_accuracy.values()) == 10
    assert all(t.rate == 1.0 for t in stats.player_accuracy.values())
    assert all(t.rate == 0.0 for t in stats.ai_accuracy[easy.card.id].values())
    diagonal = sum(stats.player_confusion.counts[i][i] for i in range(len(pack.classes)))
    assert diagonal == 10 and sum(stats.ai_confusion.counts[i][i] for i in range(len(pack.classes))) == 0
    assert [(p.points, p.winner) for p in stats.progress] == [(10 * 15, "player")]  # easy: 10 + 5 a round


def test_the_share_text_of_a_fixed_session() -> None:
    rounds = (
        RoundRecap(1, "a", "bag", "bag", "bag", 1200, 25),
        RoundRecap(2, "b", "coat", "shirt", "coat", 4100, 0),
        RoundRecap(3, "c", "dress", "dress", "sandal", 2500, 24),
        RoundRecap(4, "d", "shirt", None, "shirt", 15000, 0),
    )
    recap = SessionRecap("s", PACK, "m", "medium", "classic", "2026-11-30T10:00:00+00:00", rounds, daily=DAY)
    text = share_text(recap, day=DAY, pack_title="Fashion-MNIST", opponent_title="Deep CNN")
    assert text == (
        "EyeVsAI daily 2026-11-30 · Fashion-MNIST\n"
        "You 2/4 vs Deep CNN 3/4 (medium): The AI won · 49 pts\n"
        "You 🟩🟥🟩⬛\n"
        "AI  🟩🟩🟥🟩"
    )
