"""Ranked sessions: the server deals, times and scores every round, and signs the session's record at the end."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server import catalog, ranked, ranked_ending
from sync_server.api.deps import AppStateDep, CurrentUser, SessionDep, account_rate_limit
from sync_server.api.errors import responses
from sync_server.errors import ServiceError
from sync_server.models import AiModel, GameSession
from sync_server.models import Pack as PackRow
from sync_server.schemas.common import Uuid
from sync_server.schemas.ranked import (
    AiReveal,
    Attestation,
    Opponent,
    PublicKey,
    RankedAnswer,
    RankedPack,
    RankedReveal,
    RankedRound,
    RankedSeed,
    RankedSessionPublic,
    RankedStart,
)

router = APIRouter(prefix="/ranked", tags=["ranked"])
StartLimit = Depends(account_rate_limit("ranked", lambda s: s.rate_limits.ranked_starts_per_account))
RoundNumber = Annotated[int, Path(ge=1, le=1000)]


def _opponent(model: AiModel) -> Opponent:
    return Opponent(id=model.id, title=model.title, difficulty=model.difficulty, onnx_sha256=model.onnx_sha256)


def _status(game: GameSession) -> str:
    if game.review in (ranked_ending.HELD, ranked_ending.REJECTED):
        return game.review
    return game.ended_as or game.status


def _public(session: Session, game: GameSession) -> RankedSessionPublic:
    model = session.get(AiModel, game.model_id)
    opponent = (
        _opponent(model)
        if model
        else Opponent(
            id=game.model_id, title=game.model_id, difficulty=game.difficulty, onnx_sha256=game.model_sha256 or ""
        )
    )
    ended = game.ended_as is not None
    truths = [r.truth for r in ranked_ending.rounds_of(session=session, game=game)] if ended else None
    return RankedSessionPublic(
        id=game.public_id,
        pack_id=game.pack_id,
        difficulty=game.difficulty,
        opponent=opponent,
        status=_status(game),
        review=game.review,
        rounds_total=game.rounds_total or 0,
        seconds_per_round=(game.round_ms or 0) / 1000,
        client_seed=game.client_seed,
        server_seed_hash=game.server_seed_hash or "",
        server_seed=game.server_seed if ended else None,
        session_commitment=game.session_commitment,
        rounds_played=game.rounds_played,
        score=game.score,
        correct=game.correct,
        ai_correct=game.ai_correct,
        total_time_ms=game.total_time_ms,
        started_at=game.started_at,
        finished_at=game.finished_at,
        truths=truths,
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


@router.get("/public-key", responses=responses(429))
def public_key(app_state: AppStateDep) -> PublicKey:
    """The Ed25519 key that signs ranked session records (pin it: it does not change)."""
    return PublicKey(**app_state.signer.public())


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=RankedSessionPublic,
    dependencies=[StartLimit],
    responses=responses(401, 404, 409, 413, 422, 429),
)
def start(
    body: RankedStart, user: CurrentUser, app_state: AppStateDep, session: SessionDep
) -> RankedSessionPublic | JSONResponse:
    """Start a ranked session: the server seed's hash is shown now, the client's seed comes next (…/seed), and
    the seed itself is revealed at the end. One open session per account (409 names it)."""
    settings = app_state.settings
    try:
        game = ranked.start_session(
            session=session,
            user=user,
            pack_id=body.pack_id,
            difficulty=body.difficulty,
            model_id=body.model_id,
            rounds=settings.ranked_rounds,
            round_ms=round(settings.ranked_seconds_per_round * 1000),
            now=app_state.clock(),
        )
    except ranked.OpenSessionError as exc:
        return JSONResponse({"detail": exc.detail, "session_id": exc.session_id}, status_code=exc.status)
    return _public(session, game)


@router.get("/sessions/{session_id}", responses=responses(401, 404, 422, 429))
def read(session_id: Uuid, user: CurrentUser, app_state: AppStateDep, session: SessionDep) -> RankedSessionPublic:
    """A ranked session's state (the server seed and the truths once it has ended)."""
    if ranked_ending.sweep(app_state.db_sessions, now=app_state.clock(), user_id=user.id):
        session.commit()  # end this read's snapshot: it predates the sweep
    return _public(session, ranked.load_session(session=session, user=user, public_id=session_id))


@router.post("/sessions/{session_id}/seed", responses=responses(401, 404, 409, 422, 429))
def seed(
    session_id: Uuid, body: RankedSeed, user: CurrentUser, app_state: AppStateDep, session: SessionDep
) -> RankedSessionPublic:
    """Send the client seed (after reading `server_seed_hash`); rounds can be dealt from now on."""
    game = ranked.load_session(session=session, user=user, public_id=session_id, now=app_state.clock(), for_update=True)
    return _public(session, ranked.seed_session(session=session, game=game, client_seed=body.client_seed))


@router.post("/sessions/{session_id}/next", responses=responses(401, 404, 409, 422, 429))
def next_round(session_id: Uuid, user: CurrentUser, app_state: AppStateDep, session: SessionDep) -> RankedRound:
    """Deal the next round (this session's variant of a ranked image) with the AI's commitment; the server's clock
    starts now. Repeats the current round while it is unanswered (safe to retry)."""
    now = app_state.clock()
    game = ranked.load_session(session=session, user=user, public_id=session_id, now=now, for_update=True)
    served = ranked.next_round(session=session, game=game, runner=app_state.models, now=now)
    current = served.round
    return RankedRound(
        session_id=game.public_id,
        number=current.number,
        image=base64.b64encode(served.image).decode("ascii"),
        image_sha256=current.image_sha256,
        options=list(current.options),
        commitment=current.commitment or "",
        seconds=(game.round_ms or 0) / 1000,
        shown_at=current.shown_at,
    )


@router.post("/sessions/{session_id}/rounds/{number}/answer", responses=responses(401, 404, 409, 413, 422, 429))
def answer(
    session_id: Uuid,
    number: RoundNumber,
    body: RankedAnswer,
    user: CurrentUser,
    app_state: AppStateDep,
    session: SessionDep,
) -> RankedReveal:
    """Answer a round: timed by the server, scored, and the AI's record revealed; the truth waits for the end."""
    now = app_state.clock()
    game = ranked.load_session(session=session, user=user, public_id=session_id, now=now, for_update=True)
    current = ranked.answer_round(session=session, game=game, number=number, answer=body.answer, now=now)
    return RankedReveal(
        number=current.number,
        answer=current.player_answer,
        is_correct=bool(current.is_correct),
        timed_out=current.timed_out,
        elapsed_ms=current.elapsed_ms or 0,
        points=current.points or 0,
        ai=AiReveal(answer=current.ai_answer, confidence=current.ai_confidence, top1=current.ai_top1),
        record=ranked_ending.record_of(game, current).to_json_obj(),
        commitment=current.commitment or "",
        session=_public(session, game),
    )


@router.post("/sessions/{session_id}/abandon", responses=responses(401, 404, 409, 422, 429))
def abandon(session_id: Uuid, user: CurrentUser, app_state: AppStateDep, session: SessionDep) -> RankedSessionPublic:
    """End an open session now: it counts as played, every round not answered timed out."""
    now = app_state.clock()
    game = ranked.load_session(session=session, user=user, public_id=session_id, now=now, for_update=True)
    return _public(session, ranked.abandon(session=session, game=game, now=now))


@router.get("/sessions/{session_id}/attestation", responses=responses(401, 404, 409, 422, 429))
def attestation(session_id: Uuid, user: CurrentUser, app_state: AppStateDep, session: SessionDep) -> Attestation:
    """The ended session's record, signed with the server's Ed25519 key (GET /ranked/public-key)."""
    if ranked_ending.sweep(app_state.db_sessions, now=app_state.clock(), user_id=user.id):
        session.commit()  # end this read's snapshot: it predates the sweep
    game = ranked.load_session(session=session, user=user, public_id=session_id)
    if game.ended_as is None:
        raise ServiceError(409, "The session has not ended yet; its record is signed when it does")
    record = ranked_ending.attested_record(session=session, game=game)
    return Attestation(record=record, signature=app_state.signer.sign(record))
