"""Ranked sessions: the server deals, times and scores every round."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from sqlalchemy import select

from sync_server import catalog, ranked
from sync_server.api.deps import AppStateDep, CurrentUser, SessionDep, account_rate_limit
from sync_server.api.errors import responses
from sync_server.models import AiModel, GameSession, SessionRound
from sync_server.models import Pack as PackRow
from sync_server.schemas.common import Uuid
from sync_server.schemas.ranked import (
    AiReveal,
    Opponent,
    RankedAnswer,
    RankedPack,
    RankedReveal,
    RankedRound,
    RankedSessionPublic,
    RankedStart,
)

router = APIRouter(prefix="/ranked", tags=["ranked"])
StartLimit = Depends(account_rate_limit("ranked", lambda s: s.rate_limits.ranked_starts_per_account))
RoundNumber = Annotated[int, Path(ge=1, le=1000)]


def _opponent(model: AiModel) -> Opponent:
    return Opponent(id=model.id, title=model.title, difficulty=model.difficulty, onnx_sha256=model.onnx_sha256)


def _public(session, game: GameSession) -> RankedSessionPublic:  # noqa: ANN001
    model = session.get(AiModel, game.model_id)
    opponent = (
        _opponent(model)
        if model
        else Opponent(
            id=game.model_id, title=game.model_id, difficulty=game.difficulty, onnx_sha256=game.model_sha256 or ""
        )
    )
    finished = game.status == ranked.FINISHED
    return RankedSessionPublic(
        id=game.public_id,
        pack_id=game.pack_id,
        difficulty=game.difficulty,
        opponent=opponent,
        status=game.status,
        rounds_total=game.rounds_total or 0,
        seconds_per_round=(game.round_ms or 0) / 1000,
        client_seed=game.client_seed or "",
        server_seed_hash=game.server_seed_hash or "",
        server_seed=game.server_seed if finished else None,
        session_commitment=game.session_commitment,
        rounds_played=game.rounds_played,
        score=game.score,
        correct=game.correct,
        ai_correct=game.ai_correct,
        total_time_ms=game.total_time_ms,
        started_at=game.started_at,
        finished_at=game.finished_at,
    )


def _round(game: GameSession, current: SessionRound) -> RankedRound:
    return RankedRound(
        session_id=game.public_id,
        number=current.number,
        image_sha256=current.image_sha256,
        options=list(current.options),
        commitment=current.commitment or "",
        seconds=(game.round_ms or 0) / 1000,
        shown_at=current.shown_at,
    )


@router.get("/packs", responses=responses(429))
def list_packs(session: SessionDep) -> list[RankedPack]:
    """Packs playable in ranked mode and their AI opponents."""
    packs = []
    for pack in session.scalars(select(PackRow).order_by(PackRow.id)):
        models = session.scalars(
            select(AiModel)
            .where(AiModel.pack_id == pack.id, AiModel.is_active.is_(True))
            .order_by(AiModel.difficulty, AiModel.id)
        )
        packs.append(
            RankedPack(
                id=pack.id,
                title=pack.title,
                classes=list(pack.classes),
                images=catalog.ranked_image_count(session=session, pack_id=pack.id),
                opponents=[_opponent(m) for m in models],
            )
        )
    return packs


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    dependencies=[StartLimit],
    responses=responses(401, 404, 409, 413, 422, 429),
)
def start(body: RankedStart, user: CurrentUser, app_state: AppStateDep, session: SessionDep) -> RankedSessionPublic:
    """Start a ranked session; the server seed's hash is shown now and the seed itself at the end."""
    settings = app_state.settings
    game = ranked.start_session(
        session=session,
        user=user,
        pack_id=body.pack_id,
        difficulty=body.difficulty,
        model_id=body.model_id,
        client_seed=body.client_seed,
        rounds=settings.ranked_rounds,
        round_ms=round(settings.ranked_seconds_per_round * 1000),
        now=app_state.clock(),
    )
    return _public(session, game)


@router.get("/sessions/{session_id}", responses=responses(401, 404, 422, 429))
def read(session_id: Uuid, user: CurrentUser, session: SessionDep) -> RankedSessionPublic:
    """A ranked session's state (the server seed once it is finished)."""
    return _public(session, ranked.load_session(session=session, user=user, public_id=session_id))


@router.post("/sessions/{session_id}/next", responses=responses(401, 404, 409, 422, 429))
def next_round(session_id: Uuid, user: CurrentUser, app_state: AppStateDep, session: SessionDep) -> RankedRound:
    """Deal the next round with the AI's commitment; the server's clock starts now. Repeats the current round
    while it is unanswered (safe to retry)."""
    game = ranked.load_session(session=session, user=user, public_id=session_id, for_update=True)
    return _round(game, ranked.next_round(session=session, game=game, now=app_state.clock()))


@router.post("/sessions/{session_id}/rounds/{number}/answer", responses=responses(401, 404, 409, 413, 422, 429))
def answer(
    session_id: Uuid,
    number: RoundNumber,
    body: RankedAnswer,
    user: CurrentUser,
    app_state: AppStateDep,
    session: SessionDep,
) -> RankedReveal:
    """Answer a round: timed by the server, scored, and the AI's answer, confidence and salt revealed."""
    game = ranked.load_session(session=session, user=user, public_id=session_id, for_update=True)
    current = ranked.answer_round(session=session, game=game, number=number, answer=body.answer, now=app_state.clock())
    record = ranked.record_of(game, current)
    return RankedReveal(
        number=current.number,
        truth=current.truth,
        answer=current.player_answer,
        is_correct=bool(current.is_correct),
        timed_out=current.timed_out,
        elapsed_ms=current.elapsed_ms or 0,
        points=current.points or 0,
        ai=AiReveal(
            answer=current.ai_answer,
            confidence=current.ai_confidence,
            top1=current.ai_top1,
            is_correct=current.ai_answer == current.truth,
        ),
        record=record.to_json_obj(),
        commitment=current.commitment or "",
        session=_public(session, game),
    )
