"""Session history and offline session upload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from sync_server import games
from sync_server.api.deps import AppStateDep, CurrentUser, SessionDep, account_rate_limit
from sync_server.api.errors import responses
from sync_server.errors import ServiceError
from sync_server.models import GameSession
from sync_server.schemas.common import INT32_MAX, Uuid
from sync_server.schemas.games import RoundPublic, SessionDetail, SessionPage, SessionPublic, SessionUpload

router = APIRouter(prefix="/sessions", tags=["sessions"])
UploadLimit = Depends(account_rate_limit("uploads", lambda s: s.rate_limits.uploads_per_account))


def session_public(game: GameSession) -> SessionPublic:
    return SessionPublic(
        id=game.public_id,
        mode=game.mode,
        pack_id=game.pack_id,
        difficulty=game.difficulty,
        model_id=game.model_id,
        is_verified=game.is_verified,
        status=game.status,
        score=game.score,
        correct=game.correct,
        ai_correct=game.ai_correct,
        rounds_played=game.rounds_played,
        total_time_ms=game.total_time_ms,
        started_at=game.started_at,
        finished_at=game.finished_at,
    )


def session_detail(game: GameSession) -> SessionDetail:
    rounds = []
    for r in game.rounds:
        # A ranked round not answered yet keeps the AI's answer and the salt hidden; every truth waits for the
        # session's end (docs/design.md §6), so an unfinished session reveals no label.
        hidden = game.mode == "ranked" and r.answered_at is None
        truth_hidden = game.mode == "ranked" and game.finished_at is None
        rounds.append(
            RoundPublic(
                number=r.number,
                image_sha256=r.image_sha256,
                options=list(r.options),
                truth=None if truth_hidden else r.truth,
                player_answer=r.player_answer,
                is_correct=r.is_correct,
                ai_answer=None if hidden else r.ai_answer,
                ai_confidence=None if hidden else r.ai_confidence,
                commitment=r.commitment,
                salt=None if hidden else r.salt,
                elapsed_ms=r.elapsed_ms,
                points=r.points,
            )
        )
    return SessionDetail(**session_public(game).model_dump(), session_commitment=game.session_commitment, rounds=rounds)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[UploadLimit],
    responses={
        200: {"model": SessionPublic, "description": "Already uploaded: the stored session"},
        **responses(401, 409, 413, 422, 429),
    },
)
def upload(
    body: SessionUpload, user: CurrentUser, app_state: AppStateDep, session: SessionDep, response: Response
) -> SessionPublic:
    """Upload a finished offline session to the player's history (unverified; never on global boards).

    Idempotent: the same `client_session_id` again answers 200 with the stored session.
    """
    game, created = games.upload_session(session=session, user=user, body=body, now=app_state.clock())
    if not created:
        response.status_code = status.HTTP_200_OK
    return session_public(game)


@router.get("", responses=responses(401, 422, 429))
def list_sessions(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=10, pattern=r"^[0-9]{1,10}$")] = None,
) -> SessionPage:
    """The signed-in player's sessions, newest first."""
    before = int(cursor) if cursor else None
    if before is not None and before > INT32_MAX:  # session ids are 32-bit: no real cursor is larger
        raise ServiceError(422, "Invalid cursor")
    played, next_before = games.history(session=session, user=user, limit=limit, before=before)
    return SessionPage(
        items=[session_public(g) for g in played], next_cursor=None if next_before is None else str(next_before)
    )


@router.get("/{session_id}", responses=responses(401, 404, 422, 429))
def read_session(session_id: Uuid, user: CurrentUser, session: SessionDep) -> SessionDetail:
    """One of the player's sessions with its rounds."""
    return session_detail(games.session_of(session=session, user=user, public_id=session_id))
