"""Global leaderboards of verified (ranked) sessions.

Top pages are served from a small per-process cache of rendered JSON, keyed by the board's version, which goes up
in the same transaction as every change to the board. A board's version is read again when this process has
committed a board change since, or when the last reading is older than FRESH_S; in between, a hot page is served
without touching the database. So a page is current on the host that wrote, and at most FRESH_S behind a write
made by another worker or host (docs/architecture.md, "Leaderboard reads").
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from game_rules.scoring import DIFFICULTIES
from sync_server import leaderboards, ranked_ending
from sync_server.api.deps import (
    CREDENTIALS_ERROR,
    AppState,
    _bearer,
    count_account_request,
    get_token_subject,
)
from sync_server.api.errors import responses
from sync_server.errors import ServiceError
from sync_server.leaderboards import Board, CursorError, Period
from sync_server.schemas.common import PackId
from sync_server.schemas.leaderboards import LeaderboardPage, LeaderboardRow

router = APIRouter(prefix="/leaderboards", tags=["leaderboards"])
DifficultyPath = Annotated[str, Path(pattern=f"^({'|'.join(DIFFICULTIES)})$")]
At = Annotated[
    dt.date | None,
    Query(
        description="Any day inside the period to show (UTC); default today. Past periods stay queryable.",
        ge=dt.date(2000, 1, 1),
        le=dt.date(9998, 12, 1),
    ),
]
# Checked by leaderboards.decode_cursor before any query (422 with the server's own message when malformed).
Cursor = Annotated[str | None, Query(max_length=400, description="`next_cursor` of the previous page (opaque).")]
JSON = "application/json"
FRESH_S = 0.5
SWEEP_EVERY_S = 5.0  # expiring overdue ranked sessions from board reads: at most this often per process
AROUND_PAGES = 4096  # cached around-me pages per process (3 KB each at the default window)…
AROUND_BYTES = 32 * 2**20  # …and at most this much of them
DB_SLOTS = 6  # below the engine's pool size (10), which other routes share


class PageCache:
    """Rendered pages by (board, closed, limit, cursor), each stamped with the board version it was read at; and
    each board's last read state, with when it was read and this process's count of board writes at the time."""

    def __init__(self, max_pages: int = 1024, fresh_s: float = FRESH_S, max_bytes: int | None = None) -> None:
        self.max_pages, self.fresh_s, self.max_bytes = max_pages, fresh_s, max_bytes
        self._bytes = 0
        self._pages: OrderedDict[tuple, tuple[int, bytes]] = OrderedDict()
        self._states: dict[Board, tuple[leaderboards.BoardState, float, int]] = {}
        self._lock = threading.Lock()  # filled from the threadpool
        self._swept_at = float("-inf")

    def is_sweep_due(self) -> bool:
        """True at most once every SWEEP_EVERY_S: a board read then first expires overdue ranked sessions."""
        with self._lock:
            now = time.monotonic()
            if now - self._swept_at < SWEEP_EVERY_S:
                return False
            self._swept_at = now
            return True

    def fresh_state(self, board: Board) -> leaderboards.BoardState | None:
        """The board's state when read recently and no board write committed here since; else None."""
        found = self._states.get(board)
        if found is None:
            return None
        state, read_at, writes = found
        fresh = time.monotonic() - read_at < self.fresh_s and writes == leaderboards.committed_writes()
        return state if fresh else None

    def note_state(self, board: Board, state: leaderboards.BoardState, read_at: float, writes: int) -> None:
        if len(self._states) >= self.max_pages:
            self._states.clear()
        self._states[board] = (state, read_at, writes)

    def get(self, key: tuple, version: int) -> bytes | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] != version:
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: tuple, version: int, body: bytes) -> None:
        with self._lock:
            replaced = self._pages.get(key)
            self._bytes += len(body) - (len(replaced[1]) if replaced else 0)
            self._pages[key] = (version, body)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages or (self.max_bytes is not None and self._bytes > self.max_bytes):
                self._bytes -= len(self._pages.popitem(last=False)[1][1])


def _page_cache(request: Request) -> PageCache:
    state = request.app.state
    try:
        return state.board_pages
    except AttributeError:
        state.board_pages = PageCache()
        return state.board_pages


def _around_cache(request: Request) -> PageCache:
    """Around-me pages, apart from the top pages (many players, one page each: they must not push those out)."""
    state = request.app.state
    try:
        return state.around_pages
    except AttributeError:
        state.around_pages = PageCache(max_pages=AROUND_PAGES, max_bytes=AROUND_BYTES)
        return state.around_pages


async def _sweep_if_due(request: Request, app_state: AppState) -> None:
    """Abandoned ranked play counts before boards show: expire overdue sessions, at most every SWEEP_EVERY_S."""
    if _page_cache(request).is_sweep_due():
        await anyio.to_thread.run_sync(lambda: ranked_ending.sweep(app_state.db_sessions, now=app_state.clock()))


async def _in_thread(request: Request, function: Callable[..., bytes], *args: object) -> bytes:
    """Runs the board's database work on a worker thread, at most DB_SLOTS at a time per process.

    More would not run faster (one GIL) and would overflow the connection pool: every connection past its size is
    opened and closed per request (a PostgreSQL backend start each time).
    """
    state = request.app.state
    try:
        slots = state.board_db_slots
    except AttributeError:  # made here: a limiter belongs to the running event loop
        slots = state.board_db_slots = anyio.CapacityLimiter(DB_SLOTS)
    return await anyio.to_thread.run_sync(function, *args, limiter=slots)


def _board(
    app_state: AppState, pack_id: str, difficulty: str, period: Period, at: dt.date | None
) -> tuple[Board, dt.date | None, bool]:
    today = app_state.clock().astimezone(dt.UTC).date()
    start, end = leaderboards.period_bounds(period, at or today)
    return Board(pack_id, difficulty, period, start), end, end is not None and end <= today


def _page(
    board: Board, end: dt.date | None, closed: bool, total: int, rows: list[leaderboards.Row], next_cursor: str | None
) -> bytes:
    entries = [
        LeaderboardRow(
            rank=row.rank,
            player_id=row.player_id,
            display_name=row.display_name,
            score=row.score,
            accuracy=row.accuracy_ppm / 1_000_000,
            total_time_ms=row.total_time_ms,
            rounds=row.rounds,
            achieved_at=row.achieved_at,
            session_id=row.session_public_id,
        )
        for row in rows
    ]
    page = LeaderboardPage(
        pack_id=board.pack_id,
        difficulty=board.difficulty,
        period=board.period.value,
        period_start=board.start,
        period_end=end,
        is_closed=closed,
        total=total,
        entries=entries,
        next_cursor=next_cursor,
    )
    return page.model_dump_json().encode()


def _top_page(
    app_state: AppState,
    cache: PageCache,
    board: Board,
    end: dt.date | None,
    closed: bool,
    limit: int,
    cursor: str | None,
) -> bytes:
    """One database session: the board's version and count, then the page unless the cache holds that version."""
    # Taken before the query: a write committed meanwhile makes this reading stale at once, never the reverse.
    read_at, writes = time.monotonic(), leaderboards.committed_writes()
    with app_state.db_sessions() as session:
        state = leaderboards.board_state(session=session, board=board)
        cache.note_state(board, state, read_at, writes)
        key = (board, closed, limit, cursor)
        body = cache.get(key, state.version)
        if body is None:
            rows, next_cursor = leaderboards.top(session=session, board=board, limit=limit, cursor=cursor, state=state)
            body = _page(board, end, closed, state.size, rows, next_cursor)
            cache.put(key, state.version, body)
        return body


@router.get("/{pack_id}/{difficulty}/{period}", response_model=LeaderboardPage, responses=responses(422, 429))
async def read_board(
    request: Request,
    pack_id: PackId,
    difficulty: DifficultyPath,
    period: Period,
    at: At = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Cursor = None,
) -> Response:
    """The best verified session of each player, best first (score, then accuracy, then less time)."""
    # async, with the database work in one threadpool call: the read path's cost is the queries, not hand-offs.
    app_state: AppState = request.app.state.app_state
    await _sweep_if_due(request, app_state)
    board, end, closed = _board(app_state, pack_id, difficulty, period, at)
    try:
        if cursor:
            leaderboards.decode_cursor(cursor)
    except CursorError as exc:
        raise ServiceError(422, str(exc)) from None
    cache = _page_cache(request)
    state = cache.fresh_state(board)
    body = cache.get((board, closed, limit, cursor), state.version) if state else None
    if body is None:
        body = await _in_thread(request, _top_page, app_state, cache, board, end, closed, limit, cursor)
    return Response(body, media_type=JSON)


def _around_page(
    app_state: AppState,
    cache: PageCache,
    credentials: HTTPAuthorizationCredentials | None,
    board: Board,
    end: dt.date | None,
    closed: bool,
    window: int,
) -> bytes:
    """The sign-in check, the player's place and the board's version in one statement; then the page from the
    cache when it was rendered at that version, else the neighbourhood and rank in a second statement. On a plain
    connection (no ORM session: its bookkeeping cost more than the queries)."""
    public_id = get_token_subject(app_state, credentials)
    count_account_request(app_state, public_id)
    with app_state.engine.connect() as connection:
        placing = leaderboards.locate(connection=connection, board=board, public_id=public_id)
        if placing is None:  # no such account any more, or a disabled one: as get_current_user
            raise CREDENTIALS_ERROR
        key = (board, closed, window, placing.user_id)
        body = cache.get(key, placing.state.version)
        if body is None:
            rows = leaderboards.neighbourhood(connection=connection, placing=placing, window=window)
            body = _page(board, end, closed, placing.state.size, rows, None)
            cache.put(key, placing.state.version, body)
        return body


@router.get(
    "/{pack_id}/{difficulty}/{period}/around-me", response_model=LeaderboardPage, responses=responses(401, 422, 429)
)
async def read_around_me(
    request: Request,
    pack_id: PackId,
    difficulty: DifficultyPath,
    period: Period,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    at: At = None,
    window: Annotated[int, Query(ge=0, le=50, description="Rows above and below.")] = 5,
) -> Response:
    """The signed-in player's row with its neighbours; no entries when the player is not on the board."""
    app_state: AppState = request.app.state.app_state
    await _sweep_if_due(request, app_state)
    board, end, closed = _board(app_state, pack_id, difficulty, period, at)
    cache = _around_cache(request)
    body = await _in_thread(request, _around_page, app_state, cache, credentials, board, end, closed, window)
    return Response(body, media_type=JSON)
