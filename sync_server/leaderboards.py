"""Global leaderboards (docs/design.md §6): calendar UTC periods, the best verified session per player.

A board is pack × difficulty × period, where a period is a UTC calendar day, an ISO week (Monday first), a month
or all time. Finishing a ranked session offers it to the four boards its finish time falls in; each board keeps
one entry per player, replaced only by a strictly better session. Order (best first): score, then accuracy, then
less total time, then the earlier achievement, then the account (so every row has one stable rank).
Closed periods are never deleted: any past board is queried with `at=<a date inside it>`.

Every read is an index range scan (docs/architecture.md, "Leaderboard reads"): each entry stores that whole order
as one byte string (`sort_key`), each board row keeps its player count and a version bumped with every change, and
a per-board count of players per score turns a rank into a short sum plus a count of the ties above.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import struct
from dataclasses import dataclass
from enum import StrEnum
from operator import itemgetter

from sqlalchemy import (
    BigInteger,
    Connection,
    and_,
    bindparam,
    cast,
    event,
    func,
    insert,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from game_rules.scoring import accuracy_ppm
from sync_server.models import GameSession, Leaderboard, LeaderboardEntry, LeaderboardScoreCount, User

MAX_LIMIT = 100
ALL_TIME_START = dt.date(1970, 1, 1)
# (2^32-1 - (score + 2^31), 2^32-1 - accuracy, total ms, µs since 0001-01-01 UTC, user id), big-endian: the bytes
# compare (memcmp on SQLite BLOB and PostgreSQL bytea alike) exactly as the board orders its entries.
_KEY = struct.Struct(">IIIQI")
KEY_BYTES = _KEY.size
_SCORE_BYTES = 4
_U32 = 2**32 - 1
_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
CURSOR_PATTERN = f"^[A-Za-z0-9_-]{{{KEY_BYTES * 4 // 3}}}$"
_CURSOR = re.compile(CURSOR_PATTERN)


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


def sort_key(*, score: int, accuracy: int, total_time_ms: int, achieved_at: dt.datetime, user_id: int) -> bytes:
    """The entry's place in its board as bytes: a smaller key ranks higher (see _KEY)."""
    micros = (achieved_at - _EPOCH) // dt.timedelta(microseconds=1)
    return _KEY.pack(_U32 - (score + 2**31), _U32 - accuracy, min(total_time_ms, _U32), micros, user_id)


def _key_score(key: bytes) -> int:
    return _U32 - int.from_bytes(key[:_SCORE_BYTES], "big") - 2**31


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


@dataclass(frozen=True)
class Row:
    """One ranked line of a board (plain values: reading ORM objects cost more than the queries)."""

    rank: int
    score: int
    accuracy_ppm: int
    total_time_ms: int
    achieved_at: dt.datetime
    sort_key: bytes
    player_id: str
    display_name: str
    rounds: int
    session_public_id: str


# The read statements, built once from the tables (building SQLAlchemy expressions per request cost more than
# running them): every one is a lookup or a range of an index, with the values bound at execution, and a page's rows
# join nothing (the entries carry what a page shows). They run on a plain connection, without the ORM layer.
_E, _B = LeaderboardEntry.__table__, Leaderboard.__table__
_COUNTS, _U = LeaderboardScoreCount.__table__, User.__table__
_STATE = select(_B.c.id, _B.c.size, _B.c.version).where(
    _B.c.pack_id == bindparam("pack"),
    _B.c.difficulty == bindparam("difficulty"),
    _B.c.period == bindparam("period"),
    _B.c.period_start == bindparam("start"),
)
_ROWS = (
    select(
        _E.c.score,
        _E.c.accuracy_ppm,
        _E.c.total_time_ms,
        _E.c.achieved_at,
        _E.c.sort_key,
        _E.c.player_public_id,
        _E.c.display_name,
        _E.c.rounds,
        _E.c.session_public_id,
    )
    .where(_E.c.board_id == bindparam("board"))
    .limit(bindparam("limit"))
)
_ROW_KEY = 4  # the position of sort_key in _ROWS
_KEY_PARAM = bindparam("key", type_=_E.c.sort_key.type)
_FIRST = _ROWS.order_by(_E.c.sort_key)
_AFTER = _ROWS.where(_E.c.sort_key > _KEY_PARAM).order_by(_E.c.sort_key)
# Around a key: the rows before it (nearest first) and the rows from it on, two index ranges.
_BEFORE_KEY = _ROWS.where(_E.c.sort_key < _KEY_PARAM).order_by(_E.c.sort_key.desc()).subquery()
_FROM_KEY = _ROWS.where(_E.c.sort_key >= _KEY_PARAM).order_by(_E.c.sort_key).limit(bindparam("limit_from")).subquery()
_HIGHER = (
    select(func.coalesce(func.sum(_COUNTS.c.players), 0))
    .where(_COUNTS.c.board_id == bindparam("board"), _COUNTS.c.score > bindparam("score"))
    .scalar_subquery()
)


def _tied(*, inclusive: bool):  # noqa: ANN202 - a scalar subquery
    last = _E.c.sort_key <= _KEY_PARAM if inclusive else _E.c.sort_key < _KEY_PARAM
    floor = _E.c.sort_key >= bindparam("floor", type_=_E.c.sort_key.type)
    return select(func.count()).select_from(_E).where(_E.c.board_id == bindparam("board"), floor, last)


_RANKED_BEFORE = {
    inclusive: select(_HIGHER, _tied(inclusive=inclusive).scalar_subquery()) for inclusive in (False, True)
}
# A player's neighbours and, in a row of its own (every column NULL but `before`), the count of players ranked
# before the player's key: one statement, the rank computed once.
_AROUND = union_all(
    select(*_BEFORE_KEY.c, cast(null(), BigInteger).label("before")),  # typed: PostgreSQL takes NULL for text
    select(*_FROM_KEY.c, null()),
    select(*(null() for _ in _ROWS.selected_columns), (_HIGHER + _tied(inclusive=False).scalar_subquery())),
)


def _same_board(table, **columns):  # noqa: ANN001, ANN202 - a table's board columns equal to the bound values
    return and_(
        table.c.pack_id == bindparam("pack"),
        table.c.difficulty == bindparam("difficulty"),
        table.c.period == bindparam("period"),
        table.c.period_start == bindparam("start"),
        *(table.c[name] == value for name, value in columns.items()),
    )


_MINE = (
    select(_E.c.sort_key, _B.c.id, _B.c.size, _B.c.version)
    .select_from(_E.join(_B, _B.c.id == _E.c.board_id))
    .where(_same_board(_E, user_id=bindparam("user")))
)
# An account (by public id) with its entry on a board and the board's row, both optional: the sign-in check and
# the player's place in one statement of three index lookups.
_PLACING = (
    select(
        _U.c.id.label("user_id"),
        _U.c.is_active,
        _E.c.sort_key,
        _B.c.id.label("board_id"),
        _B.c.size,
        _B.c.version,
    )
    .select_from(_U.outerjoin(_B, _same_board(_B)).outerjoin(_E, _same_board(_E, user_id=_U.c.id)))
    .where(_U.c.public_id == bindparam("subject"))
)


def _board_params(board: Board) -> dict:
    return {"pack": board.pack_id, "difficulty": board.difficulty, "period": board.period.value, "start": board.start}


def board_state(*, connection: Connection, board: Board) -> BoardState:
    found = connection.execute(_STATE, _board_params(board)).first()
    return BoardState(*found) if found else BoardState(None, 0, 0)


def _rows(connection: Connection, statement, params: dict, *, first_rank: int) -> list[Row]:  # noqa: ANN001
    return [Row(first_rank + i, *values) for i, values in enumerate(connection.execute(statement, params).all())]


def _ranked_before(connection: Connection, board_id: int, key: bytes, *, inclusive: bool) -> int:
    """How many entries rank before `key` (or at it, when inclusive): the players on higher scores, summed from the
    per-score counts, plus the ties on its score up to it (a short range of the key index)."""
    above, tied = connection.execute(_RANKED_BEFORE[inclusive], _rank_params(board_id, key)).one()
    return int(above) + int(tied)


def _rank_params(board_id: int, key: bytes) -> dict:
    floor = key[:_SCORE_BYTES] + bytes(KEY_BYTES - _SCORE_BYTES)  # the best key with the same score
    return {"board": board_id, "score": _key_score(key), "floor": floor, "key": key}


def encode_cursor(row: Row) -> str:
    return base64.urlsafe_b64encode(row.sort_key).decode()


def decode_cursor(cursor: str) -> bytes:
    """The sort key a cursor points after: any well-formed one is a valid position on any board.

    Raises:
        CursorError: the cursor is not one this server made.
    """
    if not _CURSOR.match(cursor):
        raise CursorError("Invalid cursor; start again without one.")
    try:
        return base64.urlsafe_b64decode(cursor)
    except (ValueError, binascii.Error):  # pragma: no cover - the pattern admits only decodable text
        raise CursorError("Invalid cursor; start again without one.") from None


def top(
    *, connection: Connection, board: Board, limit: int, cursor: str | None = None, state: BoardState | None = None
) -> tuple[list[Row], str | None]:
    """One page of a board, best first, and the cursor of the next page (None on the last page).

    Raises:
        CursorError: a cursor this server did not make.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    after = decode_cursor(cursor) if cursor else None
    state = state or board_state(connection=connection, board=board)
    if state.id is None:
        return [], None
    params = {"board": state.id, "limit": limit + 1, "key": after}
    if after is None:
        rows = _rows(connection, _FIRST, params, first_rank=1)
    else:
        first_rank = _ranked_before(connection, state.id, after, inclusive=True) + 1
        rows = _rows(connection, _AFTER, params, first_rank=first_rank)
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


@dataclass(frozen=True)
class Placing:
    """An active account's place on a board: its key (None when it has none there) and the board's row."""

    user_id: int
    key: bytes | None
    state: BoardState


def locate(*, connection: Connection, board: Board, public_id: str) -> Placing | None:
    """The account's place on the board, found by the account's public id in one statement (index lookups of the
    account, its entry and the board row); None when no active account has that id."""
    found = connection.execute(_PLACING, {**_board_params(board), "subject": public_id}).first()
    if found is None or not found.is_active:
        return None
    state = BoardState(found.board_id, found.size or 0, found.version or 0)
    return Placing(found.user_id, found.sort_key, state)


def neighbourhood(*, connection: Connection, placing: Placing, window: int) -> list[Row]:
    """The player's row with up to `window` rows above and below it, ranked (empty when the player has no place):
    the neighbour ranges and the rank come from one statement."""
    if placing.key is None:
        return []
    mine = placing.key
    params = {**_rank_params(placing.state.id, mine), "limit": window, "limit_from": window + 1}
    rows, before = [], 0
    for values in connection.execute(_AROUND, params):
        if values.before is None:
            rows.append(tuple(values[:-1]))
        else:
            before = int(values.before)
    rows.sort(key=itemgetter(_ROW_KEY))
    first_rank = before + 1 - sum(values[_ROW_KEY] < mine for values in rows)
    return [Row(first_rank + i, *values) for i, values in enumerate(rows)]


def around(*, connection: Connection, board: Board, user_id: int, window: int) -> list[Row]:
    """The player's row with up to `window` rows above and below it; empty when the player is not on the board."""
    found = connection.execute(_MINE, {**_board_params(board), "user": user_id}).first()
    if found is None:
        return []
    mine, board_id, size, version = found
    placing = Placing(user_id, mine, BoardState(board_id, size, version))
    return neighbourhood(connection=connection, placing=placing, window=window)
