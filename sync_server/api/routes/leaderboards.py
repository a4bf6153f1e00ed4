"""Global leaderboards of verified (ranked) sessions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query

from game_rules.scoring import DIFFICULTIES
from sync_server import leaderboards, ranked_ending
from sync_server.api.deps import AppStateDep, CurrentUser, SessionDep
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


def _board(
    app_state: AppStateDep, pack_id: str, difficulty: str, period: Period, at: dt.date | None
) -> tuple[Board, dt.date | None, bool]:
    ranked_ending.sweep(app_state.db_sessions, now=app_state.clock())  # abandoned play counts before boards show
    today = app_state.clock().astimezone(dt.UTC).date()
    start, end = leaderboards.period_bounds(period, at or today)
    return Board(pack_id, difficulty, period, start), end, end is not None and end <= today


def _page(
    session,
    board: Board,
    end: dt.date | None,
    closed: bool,
    rows: list[leaderboards.Row],  # noqa: ANN001
    next_cursor: str | None,
) -> LeaderboardPage:
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
    return LeaderboardPage(
        pack_id=board.pack_id,
        difficulty=board.difficulty,
        period=board.period.value,
        period_start=board.start,
        period_end=end,
        is_closed=closed,
        total=leaderboards.board_size(session=session, board=board),
        entries=entries,
        next_cursor=next_cursor,
    )


@router.get("/{pack_id}/{difficulty}/{period}", responses=responses(422, 429))
def read_board(
    pack_id: PackId,
    difficulty: DifficultyPath,
    period: Period,
    app_state: AppStateDep,
    session: SessionDep,
    at: At = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> LeaderboardPage:
    """The best verified session of each player, best first (score, then accuracy, then less time)."""
    board, end, closed = _board(app_state, pack_id, difficulty, period, at)
    try:
        rows, next_cursor = leaderboards.top(session=session, board=board, limit=limit, cursor=cursor)
    except CursorError as exc:
        raise ServiceError(422, str(exc)) from None
    return _page(session, board, end, closed, rows, next_cursor)


@router.get("/{pack_id}/{difficulty}/{period}/around-me", responses=responses(401, 422, 429))
def read_around_me(
    pack_id: PackId,
    difficulty: DifficultyPath,
    period: Period,
    user: CurrentUser,
    app_state: AppStateDep,
    session: SessionDep,
    at: At = None,
    window: Annotated[int, Query(ge=0, le=50, description="Rows above and below.")] = 5,
) -> LeaderboardPage:
    """The signed-in player's row with its neighbours; no entries when the player is not on the board."""
    board, end, closed = _board(app_state, pack_id, difficulty, period, at)
    rows = leaderboards.around(session=session, board=board, user_id=user.id, window=window)
    return _page(session, board, end, closed, rows, None)
