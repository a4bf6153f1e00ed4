"""How a ranked session ends (docs/design.md §6): played through, abandoned or expired; then scored for
plausibility, held or offered to the boards; and its record, which the server signs.

Every end counts: rounds never answered are timed out (0 points, the full round time) and the session enters the
player's history and the boards like one played through, so that dropping a session after a bad round, or
harvesting truths with empty answers, costs a counted session. Data functions take `session` keyword-only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from game_rules.attestation import round_entry, session_record
from game_rules.commitment import RoundRecord, session_commitment
from sync_server import crowd, leaderboards, plausibility
from sync_server.db import write_session
from sync_server.models import GameSession, SessionRound, User

RANKED = "ranked"
SEEDING, PLAYING, FINISHED = "seeding", "playing", "finished"
OPEN = (SEEDING, PLAYING)
ABANDONED, EXPIRED = "abandoned", "expired"
HELD, APPROVED, REJECTED = "held", "approved", "rejected"
GRACE_S = 120


def rounds_of(*, session: Session, game: GameSession) -> list[SessionRound]:
    query = select(SessionRound).where(SessionRound.session_id == game.id).order_by(SessionRound.number)
    return list(session.scalars(query))


def end_session(*, session: Session, game: GameSession, now: dt.datetime, ended_as: str) -> None:
    """End an open session: time out what was not answered, total it, score its plausibility, then hold it or
    offer it to the boards (flushes; the caller commits)."""
    round_ms = game.round_ms or 0
    dealt = rounds_of(session=session, game=game)
    for current in dealt:
        if current.answered_at is None:
            current.answered_at, current.timed_out, current.elapsed_ms = now, True, round_ms
            current.player_answer, current.is_correct, current.points = None, False, 0
            game.ai_correct += int(current.ai_answer == current.truth)
            game.total_time_ms += round_ms
    game.total_time_ms += max(0, (game.rounds_total or 0) - len(dealt)) * round_ms  # never dealt: timed out
    game.rounds_played = max(game.rounds_total or 0, len(dealt))
    game.status, game.ended_as, game.finished_at = FINISHED, ended_as, now
    game.session_commitment = session_commitment([c.commitment or "" for c in dealt])
    session.flush()
    game.plausibility = plausibility.session_score(session=session, game=game)
    if game.fast_answers or game.plausibility > plausibility.HOLD_THRESHOLD:
        game.review = HELD
    else:
        leaderboards.record_session(session=session, game=game)
        crowd.fold_ranked(session=session, game=game, rounds=dealt)  # held ones are folded if approved
    session.flush()


def deadline(game: GameSession, last_dealt: dt.datetime | None) -> dt.datetime:
    """When an open session expires: the whole session's time plus a grace, from its last deal (or its start)."""
    allowed_ms = (game.rounds_total or 0) * (game.round_ms or 0) + GRACE_S * 1000
    return (last_dealt or game.started_at) + dt.timedelta(milliseconds=allowed_ms)


def _overdue(session: Session, now: dt.datetime, user_id: int | None, *, lock: bool) -> list[GameSession]:
    query = select(GameSession).where(GameSession.mode == RANKED, GameSession.status.in_(OPEN))
    if user_id is not None:
        query = query.where(GameSession.user_id == user_id)
    games = list(session.scalars(query.with_for_update() if lock else query))
    if not games:
        return []
    last = dict(
        session.execute(
            select(SessionRound.session_id, func.max(SessionRound.shown_at))
            .where(SessionRound.session_id.in_([g.id for g in games]))
            .group_by(SessionRound.session_id)
        ).all()
    )
    return [g for g in games if deadline(g, last.get(g.id)) <= now]


def has_overdue(*, session: Session, now: dt.datetime, user_id: int | None = None) -> bool:
    """Whether some open session (of `user_id`, or anyone's) is past its deadline (a read only)."""
    return bool(_overdue(session, now, user_id, lock=False))


def expire_overdue(*, session: Session, now: dt.datetime, user_id: int | None = None) -> int:
    """End every open session past its deadline as expired and commit; returns how many."""
    games = _overdue(session, now, user_id, lock=True)
    for game in games:
        end_session(session=session, game=game, now=now, ended_as=EXPIRED)
    if games:
        session.commit()
    return len(games)


def sweep(factory: sessionmaker[Session], *, now: dt.datetime, user_id: int | None = None) -> int:
    """Expire the overdue open sessions (of `user_id`, or everyone's) from a request that only reads: a read
    first, and the write lock only when there is something to end."""
    with factory() as session:
        if not has_overdue(session=session, now=now, user_id=user_id):
            return 0
    with write_session(factory) as session:
        return expire_overdue(session=session, now=now, user_id=user_id)


def record_of(game: GameSession, current: SessionRound) -> RoundRecord:
    """The AI's commitment record of a dealt round."""
    return RoundRecord(
        session=game.public_id,
        round=current.number,
        image=current.image_sha256,
        model=game.model_sha256 or "",
        options=tuple(current.options),
        answer=current.ai_answer,
        confidence=current.ai_confidence,
        salt=current.salt or "",
    )


def attested_record(*, session: Session, game: GameSession) -> dict[str, Any]:
    """The record the server signs for an ended session (game_rules.attestation)."""
    if game.ended_as is None or game.finished_at is None:
        raise ValueError("Only an ended ranked session has a record to sign.")
    player = session.get(User, game.user_id)
    rounds = [
        round_entry(
            ai_record=record_of(game, r),
            answer=r.player_answer,
            elapsed_ms=r.elapsed_ms or 0,
            points=r.points or 0,
            truth=r.truth,
            commitment=r.commitment or "",
        )
        for r in rounds_of(session=session, game=game)
    ]
    return session_record(
        session=game.public_id,
        player=player.public_id if player else "",
        pack=game.pack_id,
        model=game.model_sha256 or "",
        difficulty=game.difficulty,
        server_seed=game.server_seed or "",
        server_seed_hash=game.server_seed_hash or "",
        client_seed=game.client_seed or "",
        started_at=game.started_at,
        finished_at=game.finished_at,
        status=game.ended_as,
        rounds=rounds,
        score=game.score,
        correct=game.correct,
        ai_correct=game.ai_correct,
    )
