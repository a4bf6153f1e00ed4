"""The local SQLite store (sqlite-utils): profiles, sessions, rounds with their commitment data, a sync outbox.

The schema version lives in `PRAGMA user_version`; `MIGRATIONS[i]` upgrades version i to i+1. Rounds are written
as they are played and the session row is finalised in one transaction at the end, so a crash loses at most the
round in progress. One Store is owned by the GUI thread: it is the single writer.
"""

from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from classifiers.errors import EyeVsAIError
from desktop.core.session import GameSession, RoundResult


class StoreError(EyeVsAIError):
    """The local database cannot be opened or is from a newer version of the game."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _v1(db: sqlite_utils.Database) -> None:
    db["profiles"].create({"id": int, "name": str, "created": str}, pk="id", not_null={"name"})
    db["profiles"].create_index(["name"], unique=True)
    db["sessions"].create(
        {
            "id": str,
            "profile_id": int,
            "pack_id": str,
            "model_id": str,
            "model_sha256": str,
            "difficulty": str,
            "mode": str,
            "seed": str,
            "session_commitment": str,
            "status": str,
            "started": str,
            "finished": str,
            "rounds_played": int,
            "player_points": int,
            "player_correct": int,
            "ai_correct": int,
            "proof": str,
        },
        pk="id",
        foreign_keys=[("profile_id", "profiles", "id")],
    )
    db["rounds"].create(
        {
            "session_id": str,
            "number": int,
            "image": str,
            "options": str,
            "truth": str,
            "player_answer": str,
            "elapsed_s": float,
            "player_correct": int,
            "points": int,
            "ai_answer": str,
            "ai_confidence": int,
            "ai_top1": str,
            "ai_correct": int,
            "commitment": str,
            "record": str,
        },
        pk=("session_id", "number"),
        foreign_keys=[("session_id", "sessions", "id")],
    )
    db["outbox"].create({"id": int, "kind": str, "payload": str, "created": str, "sent": str}, pk="id")
    db["sessions"].create_index(["pack_id", "difficulty", "mode", "status"])


def _v2(db: sqlite_utils.Database) -> None:
    """The outbox keeps its retry state (so backoff survives restarts) and holds each session at most once."""
    outbox = db["outbox"]
    outbox.add_column("session_id", str)
    outbox.add_column("state", str, not_null_default="pending")  # pending | sent | rejected | skipped
    outbox.add_column("attempts", int, not_null_default=0)
    outbox.add_column("next_attempt", str)  # ISO UTC; NULL: due now
    outbox.add_column("last_error", str)
    db.execute("UPDATE outbox SET session_id = json_extract(payload, '$.session')")
    db.execute("UPDATE outbox SET state = 'sent' WHERE sent IS NOT NULL")
    db.execute("DELETE FROM outbox WHERE id NOT IN (SELECT MIN(id) FROM outbox GROUP BY kind, session_id)")
    outbox.create_index(["kind", "session_id"], unique=True)
    outbox.create_index(["state", "next_attempt"])


def _v3(db: sqlite_utils.Database) -> None:
    """A daily-challenge session keeps its UTC day, so the challenge is played once per day and streaks count."""
    db["sessions"].add_column("daily", str)  # ISO date; NULL: not a daily challenge
    db["sessions"].create_index(["profile_id", "daily"])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)


class Store:
    """Access to the game's database file (created and migrated on open).

    Args:
        path: the database file.
        db: an already-open database to use instead of the file (`open_store`'s in-memory fallback).
        problem: why history is not being saved (None: it is), for the window to show.
    """

    def __init__(
        self, path: str | Path, *, db: sqlite_utils.Database | None = None, problem: str | None = None
    ) -> None:
        self.path = Path(path)
        self.problem = problem
        if db is not None:
            self.db = db
            self._migrate()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite_utils.Database(self.path)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except StoreError:
            raise
        except Exception as exc:  # sqlite3.DatabaseError for a corrupt file, OSError for permissions
            raise StoreError(
                f"Cannot open the game database {self.path}: {exc}. Move the file away to start a fresh one."
            ) from exc

    @property
    def is_saving(self) -> bool:
        """False when history lives in memory only (the data folder cannot be written)."""
        return self.problem is None

    @property
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The database {self.path} has schema version {version}, newer than this game "
                f"({SCHEMA_VERSION}). Update the game."
            )
        for target in range(version, SCHEMA_VERSION):
            with self.db.conn:
                MIGRATIONS[target](self.db)
                self.db.execute(f"PRAGMA user_version = {target + 1}")

    def close(self) -> None:
        self.db.close()

    # -- profiles ---------------------------------------------------------------------------------------------
    def profile_id(self, name: str) -> int:
        """The id of the profile with this name, creating it on first use."""
        name = name.strip() or "Player"
        rows = list(self.db["profiles"].rows_where("name = ?", [name], limit=1))
        if rows:
            return int(rows[0]["id"])
        with self.db.conn:
            return int(self.db["profiles"].insert({"name": name, "created": _now()}).last_pk)

    def profile_names(self) -> list[str]:
        return [row["name"] for row in self.db["profiles"].rows_where(order_by="id")]

    # -- sessions ---------------------------------------------------------------------------------------------
    def begin_session(
        self, session: GameSession, profile_id: int, difficulty: str, *, daily: date | None = None
    ) -> None:
        """Record a session as started (`daily`: the day of the daily challenge it plays)."""
        with self.db.conn:
            self.db["sessions"].insert(
                {
                    "id": session.session_id,
                    "profile_id": profile_id,
                    "pack_id": session.pack_id,
                    "model_id": session.opponent.model_id,
                    "model_sha256": session.opponent.onnx_sha256,
                    "difficulty": difficulty,
                    "mode": session.mode.name,
                    "seed": session.seed,
                    "session_commitment": session.session_commitment,
                    "status": "playing",
                    "started": _now(),
                    "rounds_played": 0,
                    "player_points": 0,
                    "player_correct": 0,
                    "ai_correct": 0,
                    "daily": daily.isoformat() if daily else None,
                }
            )

    def daily_days(self, profile_id: int, pack_id: str | None = None) -> list[date]:
        """The days this profile started a daily challenge (on the pack, or on any), oldest first."""
        sql = "SELECT DISTINCT daily FROM sessions WHERE profile_id = ? AND daily IS NOT NULL"
        args: list[Any] = [profile_id]
        if pack_id is not None:
            sql, args = sql + " AND pack_id = ?", [*args, pack_id]
        return sorted(date.fromisoformat(row[0]) for row in self.db.execute(sql, args).fetchall())

    def has_played_daily(self, profile_id: int, pack_id: str, day: date) -> bool:
        """True once a daily challenge of that pack and day was started (quitting it does not give a retry)."""
        return day in self.daily_days(profile_id, pack_id)

    def save_round(self, session_id: str, result: RoundResult) -> None:
        with self.db.conn:
            self.db["rounds"].insert(
                {
                    "session_id": session_id,
                    "number": result.number,
                    "image": result.image,
                    "options": json.dumps(list(result.options)),
                    "truth": result.truth,
                    "player_answer": result.player_answer,
                    "elapsed_s": result.elapsed_s,
                    "player_correct": int(result.player_correct),
                    "points": result.points,
                    "ai_answer": result.ai.answer,
                    "ai_confidence": result.ai.confidence,
                    "ai_top1": result.ai.top1,
                    "ai_correct": int(result.ai_correct),
                    "commitment": result.commitment,
                    "record": json.dumps(result.record.to_json_obj(), ensure_ascii=False),
                },
                replace=True,
            )

    def finish_session(self, session: GameSession) -> None:
        """Mark the session finished with its totals and proof, in one transaction."""
        with self.db.conn:
            self.db["sessions"].update(
                session.session_id,
                {
                    "status": "finished",
                    "finished": _now(),
                    "rounds_played": len(session.results),
                    "player_points": session.player_points,
                    "player_correct": session.player_correct,
                    "ai_correct": session.ai_correct,
                    "proof": session.proof().to_json(),
                },
            )
            # Same transaction as the result: a finished session is always queued for upload, exactly once.
            self.db["outbox"].insert(
                {
                    "kind": "session",
                    "payload": json.dumps({"session": session.session_id}),
                    "session_id": session.session_id,
                    "created": _now(),
                },
                ignore=True,
            )

    def abandon_unfinished(self) -> int:
        """Sessions left 'playing' by a crash or quit become 'abandoned'; returns how many."""
        with self.db.conn:
            cursor = self.db.execute("UPDATE sessions SET status = 'abandoned' WHERE status = 'playing'")
            return cursor.rowcount

    def history(self, profile_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        where, args = ("status = 'finished'", [])
        if profile_id is not None:
            where, args = where + " AND profile_id = ?", [profile_id]
        return list(self.db["sessions"].rows_where(where, args, order_by="started desc", limit=limit))

    def rounds(self, session_id: str) -> list[dict[str, Any]]:
        return list(self.db["rounds"].rows_where("session_id = ?", [session_id], order_by="number"))

    def correctness_pairs(self, profile_id: int, pack_id: str, model_id: str | None = None) -> list[tuple[int, int]]:
        """(player correct, AI correct) per played round of finished sessions, for error consistency."""
        sql = (
            "SELECT r.player_correct, r.ai_correct FROM rounds r JOIN sessions s ON s.id = r.session_id "
            "WHERE s.status = 'finished' AND s.profile_id = ? AND s.pack_id = ?"
        )
        args: list[Any] = [profile_id, pack_id]
        if model_id:
            sql, args = sql + " AND s.model_id = ?", [*args, model_id]
        return [(int(a), int(b)) for a, b in self.db.execute(sql, args).fetchall()]

    def leaderboard(self, pack_id: str, difficulty: str, mode: str, limit: int = 10) -> list[dict[str, Any]]:
        """Best finished session per profile for pack × difficulty × mode, highest points first."""
        sql = (
            "SELECT p.name AS name, MAX(s.player_points) AS points, COUNT(*) AS sessions "
            "FROM sessions s JOIN profiles p ON p.id = s.profile_id "
            "WHERE s.status = 'finished' AND s.pack_id = ? AND s.difficulty = ? AND s.mode = ? "
            "GROUP BY s.profile_id ORDER BY points DESC, name LIMIT ?"
        )
        cursor = self.db.execute(sql, [pack_id, difficulty, mode, limit])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _is_unwritable(exc: BaseException | None) -> bool:
    """True for the errors of a folder or file the game may not write (not for a corrupt or newer database)."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "readonly" in text or "read-only" in text or "unable to open" in text
    return False


def open_store(path: str | Path) -> Store:
    """The store at `path`, or, when its folder cannot be written, an in-memory store that says so.

    The in-memory store starts as a copy of an existing database (so history and leaderboards still show) and
    carries a `problem` the window shows; nothing played is saved.

    Raises:
        StoreError: the database is corrupt or from a newer game (moving it away is the fix, not another folder).
    """
    path = Path(path)
    try:
        return Store(path)
    except StoreError as exc:
        if not _is_unwritable(exc.__cause__):
            raise
    memory = sqlite3.connect(":memory:")
    if path.is_file():
        try:  # immutable: read without the WAL side files, which a read-only folder cannot create
            source = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)
            source.backup(memory)
            source.close()
        except sqlite3.Error:
            memory = sqlite3.connect(":memory:")  # unreadable too: start empty, the problem still says why
    problem = (
        f"Your data folder {path.parent} is read-only: playing without saving history. "
        "Make it writable, or start the game with --data-dir pointing to a folder you can write."
    )
    return Store(path, db=sqlite_utils.Database(memory), problem=problem)
