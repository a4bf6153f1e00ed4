"""The local SQLite store: migrations, sessions saved as played, leaderboards, crash safety."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
import sqlite_utils

from desktop.services.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError
from game_rules.modes import CLASSIC
from tests.desktop.test_session import _session


def test_a_new_database_is_migrated_to_the_current_schema(tmp_path: Path) -> None:
    store = Store(tmp_path / "sub" / "game.db")
    assert store.version == SCHEMA_VERSION
    assert {"profiles", "sessions", "rounds", "outbox"} <= set(store.db.table_names())
    store.close()
    assert Store(tmp_path / "sub" / "game.db").version == SCHEMA_VERSION  # reopening is a no-op


def test_a_newer_or_corrupt_database_gives_a_clear_error(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this game"):
        Store(newer)
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="Cannot open the game database"):
        Store(corrupt)


def test_rounds_are_saved_as_played_and_a_crash_leaves_an_abandoned_session(tmp_path: Path) -> None:
    path = tmp_path / "game.db"
    store = Store(path)
    session = _session()
    store.begin_session(session, store.profile_id("Ann"), "hard")
    for _ in range(3):
        store.save_round(session.session_id, session.answer(session.current_round().truth, 1.0))
    store.close()  # the app dies here
    reopened = Store(path)
    assert len(reopened.rounds(session.session_id)) == 3
    assert reopened.abandon_unfinished() == 1
    assert reopened.history() == []  # abandoned sessions are not finished history


def test_finished_sessions_feed_history_leaderboard_and_consistency(tmp_path: Path) -> None:
    store = Store(tmp_path / "game.db")
    for n, (name, right) in enumerate((("Ann", 10), ("Bob", 4), ("Ann", 2))):
        session = _session(session_id=f"s-{n}")
        store.begin_session(session, store.profile_id(name), "hard")
        for i in range(CLASSIC.rounds):
            dealt = session.current_round()
            store.save_round(session.session_id, session.answer(dealt.truth if i < right else None, 1.0))
        store.finish_session(session)
    board = store.leaderboard("p", "hard", "classic")
    assert [(row["name"], row["points"], row["sessions"]) for row in board] == [("Ann", 350, 2), ("Bob", 140, 1)]
    assert store.leaderboard("p", "easy", "classic") == []
    ann = store.profile_id("Ann")
    assert len(store.history(ann)) == 2
    pairs = store.correctness_pairs(ann, "p")
    assert len(pairs) == 20 and sum(p for p, _ in pairs) == 12 and all(a == 1 for _, a in pairs)
    assert store.profile_names() == ["Ann", "Bob"]


def test_version_4_keeps_older_sessions_and_marks_a_daily_challenge_with_its_day(tmp_path: Path) -> None:
    path = tmp_path / "game.db"
    db = sqlite_utils.Database(path)
    for migrate in MIGRATIONS[:2]:  # a database written by the game before the daily challenge
        migrate(db)
    db.execute("PRAGMA user_version = 2")
    db["profiles"].insert({"id": 1, "name": "Ann", "created": "2026-11-01T00:00:00+00:00"})
    db["sessions"].insert({"id": "old", "profile_id": 1, "pack_id": "p", "status": "finished"})
    db.close()
    store = Store(path)
    assert store.version == SCHEMA_VERSION == 4
    assert store.daily_days(1) == []
    store.begin_session(_session(), 1, "hard", daily=date(2026, 11, 30))
    assert store.daily_days(1) == [date(2026, 11, 30)]
    assert store.has_played_daily(1, _session().pack_id, date(2026, 11, 30))
    assert not store.has_played_daily(1, _session().pack_id, date(2026, 12, 1))
