"""Crowd statistics backfill: a pack's ranked aggregates recomputed from its stored rounds in one pass.

For sessions played before the aggregates existed (migration 0006), and for the benchmark's bulk-seeded rounds.
Live play never needs it: sync_server.crowd folds each session as it ends. A test checks both give the same
numbers.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import literal, select, tuple_
from sqlalchemy.orm import Session

from sync_server.crowd import RANKED, Judgement, time_bin, with_ranks
from sync_server.models import (
    CrowdConfusion,
    CrowdImage,
    CrowdModel,
    CrowdOption,
    CrowdPack,
    CrowdPackPlayer,
    CrowdSeen,
    CrowdTime,
    GameSession,
    SessionRound,
)

_TABLES = (CrowdSeen, CrowdPackPlayer, CrowdPack, CrowdImage, CrowdOption, CrowdTime, CrowdConfusion)


class _Tally:
    """The aggregates of many judgements, counted in memory (the rebuild's single pass over the rounds)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, int]] = set()
        self.players: set[int] = set()
        self.images: dict[str, list] = {}  # image -> [label, players, correct, timeouts, ai_correct]
        self.options: Counter = Counter()  # (image, option, "shown" | "chosen")
        self.times: Counter = Counter()
        self.cells: Counter = Counter()
        self.models: Counter = Counter()  # (model, human right, model right)

    def add(self, user_id: int, model_id: str, j: Judgement) -> None:
        if (j.image, user_id) in self.seen:
            return
        self.seen.add((j.image, user_id))
        self.players.add(user_id)
        row = self.images.setdefault(j.image, [j.label, 0, 0, 0, 0])
        row[1] += 1
        row[2] += j.answer == j.label
        row[3] += j.answer is None
        row[4] += j.ai_answer == j.label
        for option in j.options:
            self.options[j.image, option, "shown"] += 1
        if j.answer is not None:
            self.options[j.image, j.answer, "chosen"] += 1
            self.times[j.image, time_bin(j.elapsed_ms)] += 1
            self.cells[j.label, j.answer] += 1
        self.models[model_id, j.answer == j.label, j.ai_answer == j.label] += 1


def _insert(session: Session, model: type, rows: list[dict], chunk: int = 20_000) -> None:
    for start in range(0, len(rows), chunk):
        session.execute(model.__table__.insert(), rows[start : start + chunk])


def _write_tally(session: Session, pack_id: str, tally: _Tally) -> None:
    key = {"pack_id": pack_id, "source": RANKED}
    _insert(session, CrowdSeen, [{**key, "image_sha256": i, "user_id": u} for i, u in sorted(tally.seen)])
    _insert(session, CrowdPackPlayer, [{**key, "user_id": u} for u in sorted(tally.players)])
    answers = sum(r[1] for r in tally.images.values())
    correct = sum(r[2] for r in tally.images.values())
    if answers:
        _insert(session, CrowdPack, [{**key, "players": len(tally.players), "answers": answers, "correct": correct}])
    columns = ("label", "players", "correct", "timeouts", "ai_correct")
    _insert(
        session,
        CrowdImage,
        [with_ranks({**key, "image_sha256": i, **dict(zip(columns, r, strict=True))}) for i, r in tally.images.items()],
    )
    options: dict[tuple[str, str], dict] = {}
    for (image, option, kind), n in tally.options.items():
        options.setdefault((image, option), {**key, "image_sha256": image, "option": option, "shown": 0, "chosen": 0})[
            kind
        ] = n
    _insert(session, CrowdOption, list(options.values()))
    _insert(
        session, CrowdTime, [{**key, "image_sha256": i, "bin_ms": b, "count": n} for (i, b), n in tally.times.items()]
    )
    _insert(
        session, CrowdConfusion, [{**key, "truth": t, "answer": a, "count": n} for (t, a), n in tally.cells.items()]
    )
    models: dict[str, dict] = {}
    names = {(True, True): "both_right", (True, False): "human_only", (False, True): "model_only"}
    for (model_id, human, machine), n in tally.models.items():
        row = models.setdefault(
            model_id,
            {
                "pack_id": pack_id,
                "model_id": model_id,
                "both_right": 0,
                "human_only": 0,
                "model_only": 0,
                "both_wrong": 0,
            },
        )
        row[names.get((human, machine), "both_wrong")] = n
    _insert(session, CrowdModel, list(models.values()))


def _sessions(session: Session, pack_id: str, after: tuple | None, page: int) -> list:
    """The next `page` counted ranked sessions of the pack in the order they ended (keyset paging)."""
    query = select(GameSession.id, GameSession.user_id, GameSession.model_id, GameSession.finished_at).where(
        GameSession.pack_id == pack_id,
        GameSession.mode == RANKED,
        GameSession.ended_as.is_not(None),
        (GameSession.review.is_(None)) | (GameSession.review == "approved"),
    )
    if after is not None:
        # Bound with the column's type: SQLite stores these times naive, and an aware literal would not compare.
        last = tuple_(literal(after[0], GameSession.finished_at.type), literal(after[1], GameSession.id.type))
        query = query.where(tuple_(GameSession.finished_at, GameSession.id) > last)
    return list(session.execute(query.order_by(GameSession.finished_at, GameSession.id).limit(page)))


def _rounds(session: Session, ids: list[int]) -> dict[int, list]:
    r = SessionRound
    rows = session.execute(
        select(r.session_id, r.source_sha256, r.image_sha256, r.truth, r.options, r.timed_out)
        .add_columns(r.player_answer, r.elapsed_ms, r.ai_answer)
        .where(r.session_id.in_(ids))
        .order_by(r.session_id, r.number)
    )
    by_session: dict[int, list] = {}
    for row in rows:  # plain rows, not ORM objects: a million rounds fold in seconds
        by_session.setdefault(row[0], []).append(row[1:])
    return by_session


def rebuild(*, session: Session, pack_id: str, page: int = 2_000) -> int:
    """Recompute a pack's RANKED aggregates from its stored rounds, in one pass in the order sessions ended (so the
    first-judgement rule picks the rounds folding picked); returns the judgements counted. Flushes; the caller
    commits.

    For sessions played before the aggregates existed (migration 0006) and for the benchmark's bulk-seeded
    rounds. Reads `page` sessions per query, so no statement runs long enough to meet the database's statement
    timeout. Offline aggregates are left alone: whether an upload opted in is not stored with it.
    """
    for model in (*_TABLES, CrowdModel):
        query = model.__table__.delete().where(model.__table__.c.pack_id == pack_id)
        if model is not CrowdModel:
            query = query.where(model.__table__.c.source == RANKED)
        session.execute(query)
    tally, after = _Tally(), None
    while games := _sessions(session, pack_id, after, page):
        rounds = _rounds(session, [g.id for g in games])
        for game in games:
            for source, image, truth, options, timed_out, answer, elapsed_ms, ai_answer in rounds.get(game.id, []):
                answer = None if timed_out else answer
                judgement = Judgement(source or image, truth, tuple(options), answer, elapsed_ms or 0, ai_answer)
                tally.add(game.user_id, game.model_id, judgement)
        after = (games[-1].finished_at, games[-1].id)
    _write_tally(session, pack_id, tally)
    session.flush()
    return len(tally.seen)
