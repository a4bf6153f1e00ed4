"""Reading the global leaderboards (docs/design.md §6): pages, ranks and a player's neighbourhood.

Every read is an index lookup or a range of one index (docs/architecture.md, "Leaderboard reads"): the entries are
in board order by `sort_key` (leaderboards.sort_key), a rank is a short sum of per-score counts plus a count of the
ties above, and an entry carries what a page shows. The statements are built once and awaited through a
`HotConnection` (sync_server/hot_reads.py): compiled once per dialect, run on the driver's connection.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from operator import itemgetter

from sqlalchemy import BigInteger, Select, and_, bindparam, cast, func, null, select, union_all

from sync_server.hot_reads import HotConnection
from sync_server.leaderboards import KEY_BYTES, SCORE_BYTES, Board, BoardState, key_score
from sync_server.models import Leaderboard, LeaderboardEntry, LeaderboardScoreCount, User

MAX_LIMIT = 100
CURSOR_PATTERN = f"^[A-Za-z0-9_-]{{{KEY_BYTES * 4 // 3}}}$"
_CURSOR = re.compile(CURSOR_PATTERN)


class CursorError(ValueError):
    """A pagination cursor that this server did not hand out."""


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


async def board_state(*, reads: HotConnection, board: Board) -> BoardState:
    found = await reads.first(_STATE, _board_params(board))
    return BoardState(*found) if found else BoardState(None, 0, 0)


async def _rows(reads: HotConnection, statement: Select, params: dict, *, first_rank: int) -> list[Row]:
    return [Row(first_rank + i, *values) for i, values in enumerate(await reads.rows(statement, params))]


async def _ranked_before(reads: HotConnection, board_id: int, key: bytes, *, inclusive: bool) -> int:
    """How many entries rank before `key` (or at it, when inclusive): the players on higher scores, summed from the
    per-score counts, plus the ties on its score up to it (a short range of the key index)."""
    above, tied = (await reads.rows(_RANKED_BEFORE[inclusive], _rank_params(board_id, key)))[0]
    return int(above) + int(tied)


def _rank_params(board_id: int, key: bytes) -> dict:
    floor = key[:SCORE_BYTES] + bytes(KEY_BYTES - SCORE_BYTES)  # the best key with the same score
    return {"board": board_id, "score": key_score(key), "floor": floor, "key": key}


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


async def top(
    *, reads: HotConnection, board: Board, limit: int, cursor: str | None = None, state: BoardState | None = None
) -> tuple[list[Row], str | None]:
    """One page of a board, best first, and the cursor of the next page (None on the last page).

    Raises:
        CursorError: a cursor this server did not make.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    after = decode_cursor(cursor) if cursor else None
    state = state or await board_state(reads=reads, board=board)
    if state.id is None:
        return [], None
    params = {"board": state.id, "limit": limit + 1, "key": after}
    if after is None:
        rows = await _rows(reads, _FIRST, params, first_rank=1)
    else:
        first_rank = await _ranked_before(reads, state.id, after, inclusive=True) + 1
        rows = await _rows(reads, _AFTER, params, first_rank=first_rank)
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


@dataclass(frozen=True)
class Placing:
    """An active account's place on a board: its key (None when it has none there) and the board's row."""

    user_id: int
    key: bytes | None
    state: BoardState


async def locate(*, reads: HotConnection, board: Board, public_id: str) -> Placing | None:
    """The account's place on the board, found by the account's public id in one statement (index lookups of the
    account, its entry and the board row); None when no active account has that id."""
    found = await reads.first(_PLACING, {**_board_params(board), "subject": public_id})
    if found is None:
        return None
    user_id, is_active, key, board_id, size, version = found
    return Placing(user_id, key, BoardState(board_id, size or 0, version or 0)) if is_active else None


async def neighbourhood(*, reads: HotConnection, placing: Placing, window: int) -> list[Row]:
    """The player's row with up to `window` rows above and below it, ranked (empty when the player has no place):
    the neighbour ranges and the rank come from one statement."""
    if placing.key is None:
        return []
    mine = placing.key
    params = {**_rank_params(placing.state.id, mine), "limit": window, "limit_from": window + 1}
    rows, before = [], 0
    for *values, rank_before in await reads.rows(_AROUND, params):
        if rank_before is None:
            rows.append(tuple(values))
        else:
            before = int(rank_before)
    rows.sort(key=itemgetter(_ROW_KEY))
    first_rank = before + 1 - sum(values[_ROW_KEY] < mine for values in rows)
    return [Row(first_rank + i, *values) for i, values in enumerate(rows)]


async def around(*, reads: HotConnection, board: Board, user_id: int, window: int) -> list[Row]:
    """The player's row with up to `window` rows above and below it; empty when the player is not on the board."""
    found = await reads.first(_MINE, {**_board_params(board), "user": user_id})
    if found is None:
        return []
    mine, board_id, size, version = found
    placing = Placing(user_id, mine, BoardState(board_id, size, version))
    return await neighbourhood(reads=reads, placing=placing, window=window)
