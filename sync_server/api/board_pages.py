"""Serving board pages fast: rendered-page caches, where the database reads run, and the lane for repeat requests.

A board read costs far less than the framework around it (docs/architecture.md, "Leaderboard reads"), so three
things keep that framework off the hot path:

- **Page caches.** Top pages and around-me pages are kept per process as rendered JSON, stamped with the board
  version they were read at (the version goes up in the same transaction as every change to the board).
- **Reads on the event loop.** A worker thread per read cost more than the read: SQLite's driver lets go of the
  GIL around every step of a statement, and with the event loop busy every step then waits for the GIL again
  (about 2 ms of CPU per request on this machine, against 0.5 ms for the queries). So the board reads are awaited
  on the event loop (sync_server/hot_reads.py): SQLite's in place, on a connection of their own
  (`AppState.board_reads`: never waiting for a pool that uploads hold; WAL readers never wait for the writer),
  PostgreSQL's on psycopg's asyncio connections (the loop serves others while a read waits on the network).
- **The lane.** The first request for a given path and query string goes through FastAPI, which validates it (or
  answers 422); the route then remembers that exact target with its validated parameters (`BoardRead`). A later
  request for the same target is served by `BoardReadLane`, an ASGI middleware inside the request-id, proxy and
  rate-limit middleware, with the same `serve` the route uses: the routing, parameter parsing and dependency
  resolution are not paid twice for a target already checked. Anything the lane cannot answer with a page (a
  missing or bad token, a limit, a database error) goes on to the app, which answers it as always.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from dataclasses import dataclass

import anyio.to_thread
from fastapi import HTTPException
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import State

from sync_server import board_reads, leaderboards, ranked_ending
from sync_server.api.deps import CREDENTIALS_ERROR, AppState, count_account_request_from_loop, token_subject
from sync_server.errors import ServiceError
from sync_server.hot_reads import AsyncHotReads, HotReads
from sync_server.leaderboards import Board
from sync_server.middleware import ASGIApp, Receive, Scope, Send
from sync_server.schemas.leaderboards import LeaderboardPage, LeaderboardRow

FRESH_S = 0.5
SWEEP_EVERY_S = 5.0  # expiring overdue ranked sessions from board reads: at most this often per process
AROUND_PAGES = 4096  # cached around-me pages per process (3 KB each at the default window)…
AROUND_BYTES = 32 * 2**20  # …and at most this much of them
DB_CONNECTIONS = 6  # PostgreSQL connections for board reads, per process (on top of the engine's pool)
TARGETS = 4096  # validated request targets the lane remembers per process
_JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class BoardRead:
    """A board request whose parameters the route validated: the board, its period's end, whether that period is
    over (`closed`, decided on `today`), and either a top page (`limit`, `cursor`) or around-me (`window`)."""

    board: Board
    end: dt.date | None
    closed: bool
    today: dt.date
    limit: int = 25
    cursor: str | None = None
    window: int | None = None  # around-me when set

    @property
    def page_key(self) -> tuple:
        return (self.board, self.closed, self.limit, self.cursor)


def board_read(
    app_state: AppState,
    pack_id: str,
    difficulty: str,
    period: leaderboards.Period,
    at: dt.date | None,
    **page: object,
) -> BoardRead:
    """The read a request asks for; `at` (default today, UTC) picks the period."""
    today = today_utc(app_state)
    start, end = leaderboards.period_bounds(period, at or today)
    board = Board(pack_id, difficulty, period, start)
    return BoardRead(board, end, end is not None and end <= today, today, **page)  # type: ignore[arg-type]


def today_utc(app_state: AppState) -> dt.date:
    return app_state.clock().astimezone(dt.UTC).date()


class PageCache:
    """Rendered pages by key, each stamped with the board version it was read at; and each board's last read state,
    with when it was read and this process's count of board writes at the time."""

    def __init__(self, max_pages: int = 1024, fresh_s: float = FRESH_S, max_bytes: int | None = None) -> None:
        self.max_pages, self.fresh_s, self.max_bytes = max_pages, fresh_s, max_bytes
        self._bytes = 0
        self._pages: OrderedDict[tuple, tuple[int, bytes]] = OrderedDict()
        self._states: dict[Board, tuple[leaderboards.BoardState, float, int]] = {}

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
        found = self._pages.get(key)
        if found is None or found[0] != version:
            return None
        self._pages.move_to_end(key)
        return found[1]

    def put(self, key: tuple, version: int, body: bytes) -> None:
        replaced = self._pages.get(key)
        self._bytes += len(body) - (len(replaced[1]) if replaced else 0)
        self._pages[key] = (version, body)
        self._pages.move_to_end(key)
        while len(self._pages) > self.max_pages or (self.max_bytes is not None and self._bytes > self.max_bytes):
            self._bytes -= len(self._pages.popitem(last=False)[1][1])


class BoardPages:
    """One process's board-serving state: both page caches, the remembered targets and the sweep's clock.

    Lives in `app.state.board_pages` and is touched from the event loop only (no locks: no board read runs on a
    worker thread)."""

    def __init__(self) -> None:
        self.top = PageCache()
        self.around = PageCache(max_pages=AROUND_PAGES, max_bytes=AROUND_BYTES)
        self.targets: OrderedDict[tuple[str, bytes], BoardRead] = OrderedDict()
        self._swept_at = float("-inf")
        self._reads: HotReads | AsyncHotReads | None = None

    def remember(self, scope: Scope, read: BoardRead) -> None:
        """The route validated this exact target: later requests for it may take the lane."""
        self.targets[(scope["path"], scope["query_string"])] = read
        self.targets.move_to_end((scope["path"], scope["query_string"]))
        if len(self.targets) > TARGETS:
            self.targets.popitem(last=False)

    def is_sweep_due(self) -> bool:
        """True at most once every SWEEP_EVERY_S: a board read then first expires overdue ranked sessions."""
        now = time.monotonic()
        if now - self._swept_at < SWEEP_EVERY_S:
            return False
        self._swept_at = now
        return True

    def reads(self, app_state: AppState) -> HotReads | AsyncHotReads:
        """Where this process's board reads run (made on first use: an asyncio pool belongs to the running loop)."""
        if self._reads is None:
            engine = app_state.board_reads or app_state.engine
            if engine.dialect.name == "postgresql":
                timeouts = app_state.settings.db_timeouts
                self._reads = AsyncHotReads(engine, max_size=DB_CONNECTIONS, timeouts=timeouts)
            else:
                self._reads = HotReads(engine)
        return self._reads

    async def close(self) -> None:
        """Closes the PostgreSQL read pool (the app's shutdown)."""
        if self._reads is not None:
            await self._reads.close()
            self._reads = None


def board_pages(state: State) -> BoardPages:
    try:
        return state.board_pages
    except AttributeError:
        state.board_pages = BoardPages()
        return state.board_pages


async def serve(state: State, read: BoardRead, token: str | None = None) -> bytes:
    """The rendered page of a validated read (around-me for the account holding `token`).

    Raises:
        HTTPException: 401 for a missing, invalid or expired token or a gone account; 429 past the account's limit.
        sqlalchemy.exc.SQLAlchemyError: the database failed (the app answers 503).
    """
    app_state: AppState = state.app_state
    pages = board_pages(state)
    if pages.is_sweep_due():  # abandoned ranked play counts before boards show
        await anyio.to_thread.run_sync(lambda: ranked_ending.sweep(app_state.db_sessions, now=app_state.clock()))
    if read.window is None:
        fresh = pages.top.fresh_state(read.board)
        body = pages.top.get(read.page_key, fresh.version) if fresh else None
        return body if body is not None else await _top_page(pages.reads(app_state), pages.top, read)
    public_id = token_subject(app_state, token)
    await count_account_request_from_loop(app_state, public_id)
    return await _around_page(pages.reads(app_state), pages.around, read, public_id)


def _page(read: BoardRead, total: int, rows: list[board_reads.Row], next_cursor: str | None) -> bytes:
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
    board = read.board
    page = LeaderboardPage(
        pack_id=board.pack_id,
        difficulty=board.difficulty,
        period=board.period.value,
        period_start=board.start,
        period_end=read.end,
        is_closed=read.closed,
        total=total,
        entries=entries,
        next_cursor=next_cursor,
    )
    return page.model_dump_json().encode()


async def _top_page(hot: HotReads | AsyncHotReads, cache: PageCache, read: BoardRead) -> bytes:
    """The board's version and count, then the page unless the cache holds it at that version."""
    # Taken before the query: a write committed meanwhile makes this reading stale at once, never the reverse.
    read_at, writes = time.monotonic(), leaderboards.committed_writes()
    async with hot.connection() as reads:
        state = await board_reads.board_state(reads=reads, board=read.board)
        cache.note_state(read.board, state, read_at, writes)
        body = cache.get(read.page_key, state.version)
        if body is None:
            rows, next_cursor = await board_reads.top(
                reads=reads, board=read.board, limit=read.limit, cursor=read.cursor, state=state
            )
            body = _page(read, state.size, rows, next_cursor)
            cache.put(read.page_key, state.version, body)
        return body


async def _around_page(hot: HotReads | AsyncHotReads, cache: PageCache, read: BoardRead, public_id: str) -> bytes:
    """The sign-in check, the player's place and the board's version in one statement; then the page from the
    cache when it was rendered at that version, else the neighbourhood and rank in a second statement."""
    assert read.window is not None
    async with hot.connection() as reads:
        placing = await board_reads.locate(reads=reads, board=read.board, public_id=public_id)
        if placing is None:  # no such account any more, or a disabled one: as get_current_user
            raise CREDENTIALS_ERROR
        key = (read.board, read.closed, read.window, placing.user_id)
        body = cache.get(key, placing.state.version)
        if body is None:
            rows = await board_reads.neighbourhood(reads=reads, placing=placing, window=read.window)
            body = _page(read, placing.state.size, rows, None)
            cache.put(key, placing.state.version, body)
        return body


def _bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer …` header, read as FastAPI's HTTPBearer reads it."""
    header = next((value for name, value in scope.get("headers") or () if name == b"authorization"), None)
    if header is None:
        return None
    scheme, token = get_authorization_scheme_param(header.decode("latin-1"))
    return token if scheme.lower() == "bearer" and token else None


class BoardReadLane:
    """Answers a GET whose exact target a board route has validated before (see the module docstring)."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            read = board_pages(self.state).targets.get((scope["path"], scope["query_string"]))
            if read is not None and read.today == today_utc(self.state.app_state):
                body = await self._page(scope, read)
                if body is not None:
                    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)

    async def _page(self, scope: Scope, read: BoardRead) -> bytes | None:
        """The page, or None when the app should answer (it then says what is wrong, as for any request)."""
        token = None
        if read.window is not None:
            token = _bearer_token(scope)
            if token is None:
                return None
        try:
            return await serve(self.state, read, token)
        except (HTTPException, ServiceError, SQLAlchemyError):
            return None
