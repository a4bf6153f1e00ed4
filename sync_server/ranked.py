"""Ranked sessions (docs/design.md §6): dealt one round at a time, timed and scored by the server.

Flow: `start_session` draws a secret server seed and shows its hash; `next_round` deals the next image and
options (game_rules.ranked_deal), commits to the AI's answer from the model's prediction table
(game_rules.commitment) and notes the time it showed the round; `answer_round` measures the answer time with the
server's clock, scores it by the game's rules (game_rules.scoring: whole milliseconds, one time-out rule) and
reveals the truth, the AI's answer and the salt. After the last round the session is finished, the seed is
revealed and the session enters the leaderboards. Data functions take `session` keyword-only and commit.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from game_rules.commitment import RoundRecord, new_salt, session_commitment
from game_rules.deal import AiAnswer, ai_answer
from game_rules.modes import DEFAULT_OPTIONS
from game_rules.ranked_deal import deal_round, seed_hash
from game_rules.scoring import is_timed_out, points, to_ms
from sync_server import catalog, leaderboards
from sync_server.errors import ServiceError
from sync_server.models import AiModel, GameSession, SessionRound, User

RANKED = "ranked"
PLAYING, FINISHED = "playing", "finished"
SESSION_NOT_FOUND = ServiceError(404, "Ranked session not found")


def ai_choice(probabilities: list[float], classes: list[str], options: tuple[str, ...]) -> AiAnswer:
    """The AI's answer among the shown options, from a prediction table row (probabilities in `classes` order)."""
    return ai_answer(dict(zip(classes, probabilities, strict=True)), options)


def start_session(
    *,
    session: Session,
    user: User,
    pack_id: str,
    difficulty: str,
    model_id: str | None,
    client_seed: str,
    rounds: int,
    round_ms: int,
    now: dt.datetime,
) -> GameSession:
    """A new ranked session against `model_id` (or a random opponent of that difficulty).

    Raises:
        ServiceError: 404 unknown pack or opponent; 409 a pack with too few ranked images.
    """
    if catalog.pack_classes(session=session, pack_id=pack_id) is None:
        raise ServiceError(404, f"Pack '{pack_id}' is not available for ranked play")
    models = catalog.active_models(session=session, pack_id=pack_id, difficulty=difficulty)
    if model_id is not None:
        models = [m for m in models if m.id == model_id]
    if not models:
        raise ServiceError(
            404, f"No {difficulty} AI opponent" + (f" '{model_id}'" if model_id else "") + f" for pack '{pack_id}'"
        )
    if catalog.ranked_image_count(session=session, pack_id=pack_id) < rounds:
        raise ServiceError(409, f"Pack '{pack_id}' has fewer than {rounds} ranked images")
    model = secrets.choice(models)
    server_seed = secrets.token_hex(32)
    game = GameSession(
        public_id=str(uuid.uuid4()),
        user_id=user.id,
        pack_id=pack_id,
        difficulty=difficulty,
        mode=RANKED,
        model_id=model.id,
        model_sha256=model.onnx_sha256,
        is_verified=True,
        status=PLAYING,
        client_seed=client_seed,
        server_seed=server_seed,
        server_seed_hash=seed_hash(server_seed),
        rounds_total=rounds,
        round_ms=round_ms,
        started_at=now,
        created_at=now,
    )
    session.add(game)
    session.commit()
    return game


def load_session(*, session: Session, user: User, public_id: str, for_update: bool = False) -> GameSession:
    """The user's ranked session (locked for the rest of the transaction when `for_update`).

    Raises:
        ServiceError: 404 when it does not exist or belongs to someone else.
    """
    query = select(GameSession).where(GameSession.public_id == public_id, GameSession.mode == RANKED)
    game = session.scalar(query.with_for_update() if for_update else query)
    if game is None or game.user_id != user.id:
        raise SESSION_NOT_FOUND
    return game


def model_of(*, session: Session, game: GameSession) -> AiModel:
    model = session.get(AiModel, game.model_id)
    if model is None:  # removed by an admin mid-session
        raise ServiceError(409, "The AI opponent of this session is no longer available")
    return model


def next_round(*, session: Session, game: GameSession, now: dt.datetime) -> SessionRound:
    """Deal the next round, or return the current one again while it is unanswered (safe to retry).

    Raises:
        ServiceError: 409 when the session is finished.
    """
    if game.status != PLAYING:
        raise ServiceError(409, "This ranked session is finished")
    rounds = list(
        session.scalars(select(SessionRound).where(SessionRound.session_id == game.id).order_by(SessionRound.number))
    )
    if rounds and rounds[-1].answered_at is None:
        return rounds[-1]
    number = len(rounds) + 1
    classes = catalog.pack_classes(session=session, pack_id=game.pack_id) or []
    dealt = deal_round(
        server_seed=game.server_seed or "",
        client_seed=game.client_seed or "",
        number=number,
        images=catalog.ranked_images(session=session, pack_id=game.pack_id),
        shown={r.image_sha256 for r in rounds},
        classes=classes,
        n_options=DEFAULT_OPTIONS,
    )
    model = model_of(session=session, game=game)
    probabilities = catalog.prediction(session=session, model_id=model.id, image_sha256=dealt.image)
    if probabilities is None:
        raise ServiceError(
            409, "The AI opponent has no prediction for this pack's images; ask an admin to re-import the pack"
        )
    ai = ai_choice(probabilities, list(model.classes), dealt.options)
    salt = new_salt()
    record = RoundRecord(
        session=game.public_id,
        round=number,
        image=dealt.image,
        model=model.onnx_sha256,
        options=dealt.options,
        answer=ai.answer,
        confidence=ai.confidence,
        salt=salt,
    )
    current = SessionRound(
        session_id=game.id,
        number=number,
        image_sha256=dealt.image,
        options=list(dealt.options),
        truth=dealt.truth,
        ai_answer=ai.answer,
        ai_confidence=ai.confidence,
        ai_top1=ai.top1,
        commitment=record.commitment(),
        salt=salt,
        shown_at=now,
    )
    session.add(current)
    try:
        session.commit()
    except IntegrityError:  # another request dealt this round first (PostgreSQL without the row lock): use it
        session.rollback()
        current = session.get(SessionRound, (game.id, number))
        if current is None:
            raise
    return current


def record_of(game: GameSession, current: SessionRound) -> RoundRecord:
    """The commitment record of a dealt round (the salt and answer are revealed only after the answer)."""
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


def answer_round(
    *, session: Session, game: GameSession, number: int, answer: str | None, now: dt.datetime
) -> SessionRound:
    """Score the player's answer to round `number`, timed by the server from the moment the round was dealt.

    A round answered when its time is up (`game_rules.scoring.is_timed_out`: at the limit or later) scores 0
    (timed out), whatever the answer. After the last round the
    session is finished and offered to the leaderboards.

    Raises:
        ServiceError: 404 no such round; 409 already answered or session finished; 422 an answer not among the
        options.
    """
    current = session.get(SessionRound, (game.id, number))
    if current is None:
        raise ServiceError(404, f"Round {number} has not been dealt")
    if current.answered_at is not None or game.status != PLAYING:
        raise ServiceError(409, f"Round {number} is already answered")
    if answer is not None and answer not in current.options:
        raise ServiceError(422, "The answer must be one of the round's options")
    shown_at = current.shown_at or now
    elapsed_ms = to_ms(max(0.0, (now - shown_at).total_seconds()))
    timed_out = is_timed_out(elapsed_ms, game.round_ms or 0)
    current.answered_at, current.timed_out = now, timed_out
    current.elapsed_ms = min(elapsed_ms, game.round_ms or elapsed_ms)
    current.player_answer = None if timed_out else answer
    current.is_correct = (not timed_out) and answer == current.truth
    current.points = points(is_correct=current.is_correct, elapsed_ms=current.elapsed_ms, difficulty=game.difficulty)
    game.rounds_played = number
    game.score += current.points
    game.correct += int(current.is_correct)
    game.ai_correct += int(current.ai_answer == current.truth)
    game.total_time_ms += current.elapsed_ms
    if number >= (game.rounds_total or 0):
        _finish(session=session, game=game, now=now)
    session.commit()
    return current


def _finish(*, session: Session, game: GameSession, now: dt.datetime) -> None:
    commitments = session.scalars(
        select(SessionRound.commitment).where(SessionRound.session_id == game.id).order_by(SessionRound.number)
    ).all()
    game.status, game.finished_at = FINISHED, now
    game.session_commitment = session_commitment([c or "" for c in commitments])
    session.flush()
    leaderboards.record_session(session=session, game=game)
