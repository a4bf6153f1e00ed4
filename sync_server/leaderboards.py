"""Global leaderboards (docs/design.md §6): calendar UTC periods, the best verified session per player.

A board is pack × difficulty × period, where a period is a UTC calendar day, an ISO week (Monday first), a month
or all time. Finishing a ranked session offers it to the four boards its finish time falls in; each board keeps
one entry per player, replaced only by a strictly better session. Order (best first): score, then accuracy, then
less total time, then the earlier achievement, then the account (so every row has one stable rank).
Closed periods are never deleted: any past board is queried with `at=<a date inside it>`.

This module keeps the boards as they change; sync_server/board_reads.py reads them. Every read is an index range
scan (docs/architecture.md, "Leaderboard reads"): each entry stores that whole order as one byte string
(`sort_key`), each board row keeps its player count and a version bumped with every change, and a per-board count
of players per score turns a rank into a short sum plus a count of the ties above.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import (
    and_,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from game_rules.scoring import accuracy_ppm
from sync_server.models import GameSession, Leaderboard, LeaderboardEntry, LeaderboardScoreCount, User

ALL_TIME_START = dt.date(1970, 1, 1)
# (2^32-1 - (score + 2^31), 2^32-1 - accuracy, total ms, µs since 0001-01-01 UTC, user id), big-endian: the bytes
# compare (memcmp on SQLite BLOB and PostgreSQL bytea alike) exactly as the board orders its entries.
_KEY = struct.Struct(">IIIQI")
KEY_BYTES = _KEY.size
SCORE_BYTES = 4
_U32 = 2**32 - 1
_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    all = "all"


def period_bounds(period: Period, at: dt.date) -> tuple[dt.date, dt.date | None]:
    """The first day of the period holding `at` and the first day after it (None for all time)."""
    if period is Period.day:
        return at, at + dt.timedelta(days=1)
    if period is Period.week:
        start = at - dt.timedelta(days=at.weekday())
        return start, start + dt.timedelta(days=7)
    if period is Period.month:
        start = at.replace(day=1)
        return start, (
            start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        )
    return ALL_TIME_START, None


def sort_key(*, score: int, accuracy: int, total_time_ms: int, achieved_at: dt.datetime, user_id: int) -> bytes:
    """The entry's place in its board as bytes: a smaller key ranks higher (see _KEY)."""
    micros = (achieved_at - _EPOCH) // dt.timedelta(microseconds=1)
    return _KEY.pack(_U32 - (score + 2**31), _U32 - accuracy, min(total_time_ms, _U32), micros, user_id)


def key_score(key: bytes) -> int:
    """The score a sort key encodes."""
    return _U32 - int.from_bytes(key[:SCORE_BYTES], "big") - 2**31


@dataclass(frozen=True)
class Board:
    pack_id: str
    difficulty: str
    period: Period
    start: dt.date

    def where(self):  # noqa: ANN201 - a SQLAlchemy boolean clause
        return and_(
            Leaderboard.pack_id == self.pack_id,
            Leaderboard.difficulty == self.difficulty,
            Leaderboard.period == self.period.value,
            Leaderboard.period_start == self.start,
        )


@dataclass(frozen=True)
class BoardState:
    """A board's row: its id (None while nobody is on it), player count and version (0 while nobody is on it)."""

    id: int | None
    size: int
    version: int


_committed_writes = [0]  # board changes committed by this process (a page cache's cue to look again at once)


def committed_writes() -> int:
    """How many transactions of this process have changed a board so far."""
    return _committed_writes[0]


def _count_commit(_session: Session) -> None:
    _committed_writes[0] += 1  # a lost increment under a race still moves the number: readers only compare it


def _locked_board(session: Session, board: Board) -> Leaderboard:
    """The board's row, created when missing, locked (PostgreSQL) until commit: writers of a board take turns.

    Writers lock the four boards of a session in Period order, so two of them never wait on each other in a cycle.
    """
    query = select(Leaderboard).where(board.where()).with_for_update()
    row = session.scalars(query).first()
    if row is None:
        dialect = session.get_bind().dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {"pack_id": board.pack_id, "difficulty": board.difficulty, "period": board.period.value}
        statement = insert_(Leaderboard).values(**values, period_start=board.start, size=0, version=0)
        session.execute(statement.on_conflict_do_nothing(index_elements=[*values, "period_start"]))
        row = session.scalars(query).one()
    return row


def _count_score(session: Session, board_id: int, score: int, delta: int) -> None:
    counts = LeaderboardScoreCount
    changed = session.execute(
        update(counts)
        .where(counts.board_id == board_id, counts.score == score)
        .values(players=counts.players + delta)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount == 0:
        session.execute(insert(counts).values(board_id=board_id, score=score, players=delta))


def record_session(*, session: Session, game: GameSession) -> None:
    """Offer a finished, verified session to its four boards (flushes; the caller commits).

    Raises:
        ValueError: the session is not finished and verified.
    """
    if not (game.is_verified and game.status == "finished" and game.finished_at is not None):
        raise ValueError("Only finished, verified (ranked) sessions enter the global leaderboards.")
    accuracy = accuracy_ppm(game.correct, game.rounds_played)
    values = {"score": game.score, "accuracy_ppm": accuracy, "total_time_ms": game.total_time_ms}
    new_key = sort_key(
        score=game.score,
        accuracy=accuracy,
        total_time_ms=game.total_time_ms,
        achieved_at=game.finished_at,
        user_id=game.user_id,
    )
    player = session.get(User, game.user_id)
    assert player is not None  # the session's foreign key
    shown = {"display_name": player.display_name, "session_public_id": game.public_id, "rounds": game.rounds_played}
    day = game.finished_at.astimezone(dt.UTC).date()
    event.listen(session, "after_commit", _count_commit, once=True)
    for period in Period:
        board = Board(game.pack_id, game.difficulty, period, period_bounds(period, day)[0])
        row = _locked_board(session, board)
        key = (game.pack_id, game.difficulty, period.value, board.start, game.user_id)
        entry = session.get(LeaderboardEntry, key, with_for_update=True)
        if entry is None:
            session.add(
                LeaderboardEntry(
                    pack_id=game.pack_id,
                    difficulty=game.difficulty,
                    period=period.value,
                    period_start=board.start,
                    user_id=game.user_id,
                    board_id=row.id,
                    sort_key=new_key,
                    session_id=game.id,
                    achieved_at=game.finished_at,
                    player_public_id=player.public_id,
                    **shown,
                    **values,
                )
            )
            row.size += 1
            _count_score(session, row.id, game.score, +1)
        elif new_key < entry.sort_key:
            if entry.score != game.score:
                _count_score(session, row.id, entry.score, -1)
                _count_score(session, row.id, game.score, +1)
            entry.sort_key, entry.session_id, entry.achieved_at = new_key, game.id, game.finished_at
            entry.score, entry.accuracy_ppm, entry.total_time_ms = game.score, accuracy, game.total_time_ms
            entry.display_name, entry.session_public_id, entry.rounds = shown.values()
        else:
            continue
        row.version += 1  # in this transaction: cached pages of this board stop matching when it commits
    session.flush()


_PERIOD_ORDER = {period.value: i for i, period in enumerate(Period)}


def _places(session: Session, user_id: int) -> list[tuple[LeaderboardEntry, Leaderboard]]:
    """A player's entries, each with its board's row locked, taken in Period order (as record_session does)."""
    entries = session.scalars(select(LeaderboardEntry).where(LeaderboardEntry.user_id == user_id)).all()
    if entries:
        event.listen(session, "after_commit", _count_commit, once=True)
    entries = sorted(entries, key=lambda e: (_PERIOD_ORDER[e.period], e.pack_id, e.difficulty, e.period_start))
    boards = (Board(e.pack_id, e.difficulty, Period(e.period), e.period_start) for e in entries)
    return [(entry, _locked_board(session, board)) for entry, board in zip(entries, boards, strict=True)]


def remove_player(*, session: Session, user_id: int) -> int:
    """Take a player's places off every board, keeping each board's count, score counts and version right (an
    account being deleted: its rows would otherwise go by the foreign keys' cascade, behind the counts' back).
    Flushes; the caller commits. Returns the number of places removed."""
    places = _places(session, user_id)
    for entry, row in places:
        row.size -= 1
        row.version += 1
        _count_score(session, row.id, entry.score, -1)
        session.delete(entry)
    session.flush()
    return len(places)


def rename_player(*, session: Session, user_id: int, display_name: str) -> None:
    """Show a player's new display name on every board they are on: their rows change and each of those boards'
    versions goes up, so no cached page keeps the old name. Flushes; the caller commits."""
    for entry, row in _places(session, user_id):
        if entry.display_name != display_name:
            entry.display_name = display_name
            row.version += 1
    session.flush()
