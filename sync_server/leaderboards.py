"""Global leaderboards (docs/design.md §6): calendar UTC periods, the best verified session per player.

A board is pack × difficulty × period, where a period is a UTC calendar day, an ISO week (Monday first), a month
or all time. Finishing a ranked session offers it to the four boards its finish time falls in; each board keeps
one entry per player, replaced only by a strictly better session. Order (best first): score, then accuracy, then
less total time, then the earlier achievement, then the account (so every row has one stable rank).
Closed periods are never deleted: any past board is queried with `at=<a date inside it>`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from game_rules.scoring import accuracy_ppm
from sync_server.models import GameSession, LeaderboardEntry, User

MAX_LIMIT = 100
ALL_TIME_START = dt.date(1970, 1, 1)


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    all = "all"


class CursorError(ValueError):
    """A pagination cursor that this server did not hand out."""


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


def _sort_key(score: int, accuracy: int, total_time_ms: int, achieved_at: dt.datetime) -> tuple:
    # Bigger is better for the first two, smaller for the rest: negate so that "smaller key = better".
    return (-score, -accuracy, total_time_ms, achieved_at)


def record_session(*, session: Session, game: GameSession) -> None:
    """Offer a finished, verified session to its four boards (flushes; the caller commits).

    Raises:
        ValueError: the session is not finished and verified.
    """
    if not (game.is_verified and game.status == "finished" and game.finished_at is not None):
        raise ValueError("Only finished, verified (ranked) sessions enter the global leaderboards.")
    accuracy = accuracy_ppm(game.correct, game.rounds_played)
    new_key = _sort_key(game.score, accuracy, game.total_time_ms, game.finished_at)
    day = game.finished_at.astimezone(dt.UTC).date()
    for period in Period:
        start, _end = period_bounds(period, day)
        key = (game.pack_id, game.difficulty, period.value, start, game.user_id)
        entry = session.get(LeaderboardEntry, key, with_for_update=True)
        if entry is None:
            session.add(
                LeaderboardEntry(
                    pack_id=game.pack_id,
                    difficulty=game.difficulty,
                    period=period.value,
                    period_start=start,
                    user_id=game.user_id,
                    session_id=game.id,
                    score=game.score,
                    accuracy_ppm=accuracy,
                    total_time_ms=game.total_time_ms,
                    achieved_at=game.finished_at,
                )
            )
        elif new_key < _sort_key(entry.score, entry.accuracy_ppm, entry.total_time_ms, entry.achieved_at):
            entry.session_id, entry.score, entry.accuracy_ppm = game.id, game.score, accuracy
            entry.total_time_ms, entry.achieved_at = game.total_time_ms, game.finished_at
    session.flush()


@dataclass(frozen=True)
class Board:
    pack_id: str
    difficulty: str
    period: Period
    start: dt.date

    def where(self):  # noqa: ANN201 - a SQLAlchemy boolean clause
        return and_(
            LeaderboardEntry.pack_id == self.pack_id,
            LeaderboardEntry.difficulty == self.difficulty,
            LeaderboardEntry.period == self.period.value,
            LeaderboardEntry.period_start == self.start,
        )


@dataclass(frozen=True)
class Row:
    """One ranked line of a board (plain values: reading ORM objects cost more than the queries)."""

    rank: int
    score: int
    accuracy_ppm: int
    total_time_ms: int
    achieved_at: dt.datetime
    user_id: int
    player_id: str
    display_name: str
    rounds: int
    session_public_id: str


_ORDER = (
    LeaderboardEntry.score.desc(),
    LeaderboardEntry.accuracy_ppm.desc(),
    LeaderboardEntry.total_time_ms.asc(),
    LeaderboardEntry.achieved_at.asc(),
    LeaderboardEntry.user_id.asc(),
)
_REVERSED = (
    LeaderboardEntry.score.asc(),
    LeaderboardEntry.accuracy_ppm.asc(),
    LeaderboardEntry.total_time_ms.desc(),
    LeaderboardEntry.achieved_at.desc(),
    LeaderboardEntry.user_id.desc(),
)


# (column, whether a higher value ranks first): the board's total order, the last key making it strict.
_KEYS = (("score", True), ("accuracy_ppm", True), ("total_time_ms", False), ("achieved_at", False), ("user_id", False))


def _compared(entry: LeaderboardEntry, *, ahead: bool):  # noqa: ANN202 - a SQLAlchemy boolean clause
    """Rows ranked before `entry` (ahead=True) or after it: a lexicographic comparison over _KEYS."""
    clauses, equal = [], []
    for name, higher_first in _KEYS:
        column, value = getattr(LeaderboardEntry, name), getattr(entry, name)
        first = column > value if higher_first else column < value
        last = column < value if higher_first else column > value
        clauses.append(and_(*equal, first if ahead else last))
        equal.append(column == value)
    return or_(*clauses)


def _before(entry: LeaderboardEntry):  # noqa: ANN202
    return _compared(entry, ahead=True)


def _after(entry: LeaderboardEntry):  # noqa: ANN202
    return _compared(entry, ahead=False)


_ROW_COLUMNS = (
    LeaderboardEntry.score,
    LeaderboardEntry.accuracy_ppm,
    LeaderboardEntry.total_time_ms,
    LeaderboardEntry.achieved_at,
    LeaderboardEntry.user_id,
    User.public_id,
    User.display_name,
    GameSession.rounds_played,
    GameSession.public_id,
)


def _rows(
    session: Session,
    where,
    order,
    limit: int | None,
    first_rank: int,  # noqa: ANN001 - SQL clauses
    *,
    step: int = 1,
) -> list[Row]:
    query = (
        select(*_ROW_COLUMNS)
        .join(User, User.id == LeaderboardEntry.user_id)
        .join(GameSession, GameSession.id == LeaderboardEntry.session_id)
        .where(*where)
        .order_by(*order)
    )
    results = session.execute(query if limit is None else query.limit(limit)).all()
    return [Row(first_rank + i * step, *values) for i, values in enumerate(results)]


def _rank_of(session: Session, board: Board, entry: LeaderboardEntry) -> int:
    ahead = session.scalar(select(func.count()).select_from(LeaderboardEntry).where(board.where(), _before(entry)))
    return int(ahead or 0) + 1


def encode_cursor(entry: LeaderboardEntry | Row) -> str:
    raw = json.dumps(
        [entry.score, entry.accuracy_ppm, entry.total_time_ms, entry.achieved_at.isoformat(), entry.user_id],
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> LeaderboardEntry:
    """The position a cursor points after (a detached entry used only for comparisons).

    Raises:
        CursorError: the cursor is not one this server made.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        score, accuracy, total_time, achieved, user_id = json.loads(raw)
        values = (score, accuracy, total_time, user_id)
        if not all(type(v) is int and 0 <= v < 2**53 for v in values):
            raise ValueError("bad numbers")
        achieved_at = dt.datetime.fromisoformat(achieved)
        if achieved_at.tzinfo is None:
            raise ValueError("naive time")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise CursorError("Invalid cursor; start again without one.") from None
    return LeaderboardEntry(
        score=score, accuracy_ppm=accuracy, total_time_ms=total_time, achieved_at=achieved_at, user_id=user_id
    )


def top(*, session: Session, board: Board, limit: int, cursor: str | None = None) -> tuple[list[Row], str | None]:
    """One page of a board, best first, and the cursor of the next page (None on the last page).

    Raises:
        CursorError: a cursor this server did not make.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    where, first_rank = [board.where()], 1
    if cursor:
        position = decode_cursor(cursor)
        where.append(_after(position))
        first_rank = _rank_of(session, board, position) + 1
    rows = _rows(session, where, _ORDER, limit + 1, first_rank)
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def around(*, session: Session, board: Board, user_id: int, window: int) -> list[Row]:
    """The player's row with up to `window` rows above and below it; empty when the player is not on the board."""
    mine = session.scalar(select(LeaderboardEntry).where(board.where(), LeaderboardEntry.user_id == user_id))
    if mine is None:
        return []
    rank = _rank_of(session, board, mine)
    above = _rows(session, [board.where(), _before(mine)], _REVERSED, window, rank - 1, step=-1)
    below = _rows(session, [board.where(), _after(mine)], _ORDER, window, rank + 1)
    me = _rows(session, [board.where(), LeaderboardEntry.user_id == user_id], _ORDER, 1, rank)
    return [*reversed(above), *me, *below]


def board_size(*, session: Session, board: Board) -> int:
    return int(session.scalar(select(func.count()).select_from(LeaderboardEntry).where(board.where())) or 0)
