"""Global leaderboards of verified (ranked) sessions: the routes validate a request, then `board_pages.serve`
renders its page (from a page cache when the board has not changed; api/board_pages.py says how pages stay
correct across workers and hosts, where the reads run, and how a target validated once is served again).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from game_rules.scoring import DIFFICULTIES
from sync_server import board_reads
from sync_server.api.board_pages import board_pages, board_read, serve
from sync_server.api.deps import _bearer
from sync_server.api.errors import responses
from sync_server.board_reads import CursorError
from sync_server.errors import ServiceError
from sync_server.leaderboards import Period
from sync_server.schemas.common import PackId
from sync_server.schemas.leaderboards import LeaderboardPage

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
# Checked by board_reads.decode_cursor before any query (422 with the server's own message when malformed).
Cursor = Annotated[str | None, Query(max_length=400, description="`next_cursor` of the previous page (opaque).")]
JSON = "application/json"


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
    try:
        if cursor:
            board_reads.decode_cursor(cursor)
    except CursorError as exc:
        raise ServiceError(422, str(exc)) from None
    read = board_read(request.app.state.app_state, pack_id, difficulty, period, at, limit=limit, cursor=cursor)
    board_pages(request.app.state).remember(request.scope, read)
    return Response(await serve(request.app.state, read), media_type=JSON)


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
    read = board_read(request.app.state.app_state, pack_id, difficulty, period, at, window=window)
    board_pages(request.app.state).remember(request.scope, read)
    token = credentials.credentials if credentials else None
    return Response(await serve(request.app.state, read, token), media_type=JSON)
