"""Crowd statistics, the writing side: a finished session's rounds folded into the aggregate tables.

Called in the transaction that ends a ranked session (sync_server.ranked_ending) or stores an opted-in offline
upload (sync_server.games), so the aggregates never disagree with the rounds and a read never scans rounds.
Only a player's FIRST judgement of an image counts (as CIFAR-10H collected one label per person and image): a
player who meets an image again cannot tilt its numbers, and an image's count of judgements is its count of
distinct players. Ranked rounds are folded under their source pack image, never the per-session variant.

Every counter is bumped by an upsert (`count = count + excluded.count`), atomic on SQLite and PostgreSQL alike,
so two sessions ending at once never lose an update.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

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

RANKED, OFFLINE = "ranked", "offline"
SOURCES = (RANKED, OFFLINE)


def time_bin(elapsed_ms: int) -> int:
    """The histogram bin (its lower edge) of an answer time: 100 ms wide up to 10 s, 1 s wide up to 5 minutes.

    Fine where people answer, coarse in the tail: medians and quantiles are read to within 100 ms.
    """
    ms = max(0, min(int(elapsed_ms), 299_999))
    return ms - ms % 100 if ms < 10_000 else ms - ms % 1000


@dataclass(frozen=True)
class Judgement:
    """One counted judgement: what a player answered (None: timed out) to an image, and the AI on the same round."""

    image: str
    label: str
    options: tuple[str, ...]
    answer: str | None
    elapsed_ms: int
    ai_answer: str | None  # None: no AI record to pair with (offline uploads)


def _upsert(session: Session, table: Table, rows: Sequence[dict], keys: Sequence[str], counters: Sequence[str]):
    """Insert rows, or add their counters to the rows already there."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in counters}
    )
    session.execute(stmt, list(rows))


def _first_seen(session: Session, *, pack_id: str, source: str, user_id: int, images: Iterable[str]) -> set[str]:
    """The images this player has not been counted on before, now marked as counted."""
    wanted = set(images)
    if not wanted:
        return set()
    seen = set(
        session.scalars(
            select(CrowdSeen.image_sha256).where(
                CrowdSeen.pack_id == pack_id,
                CrowdSeen.source == source,
                CrowdSeen.user_id == user_id,
                CrowdSeen.image_sha256.in_(wanted),
            )
        )
    )
    new = wanted - seen
    session.add_all(
        CrowdSeen(pack_id=pack_id, source=source, image_sha256=image, user_id=user_id) for image in sorted(new)
    )
    return new


def _new_pack_player(session: Session, *, pack_id: str, source: str, user_id: int) -> bool:
    if session.get(CrowdPackPlayer, (pack_id, source, user_id)) is not None:
        return False
    session.add(CrowdPackPlayer(pack_id=pack_id, source=source, user_id=user_id))
    return True


def fold(
    *,
    session: Session,
    pack_id: str,
    source: str,
    user_id: int,
    model_id: str | None,
    judgements: Sequence[Judgement],
) -> int:
    """Fold one player's judgements (one session) into the aggregates; returns how many were counted.

    Flushes; the caller commits (with the session it stores, in one transaction).
    """
    counted = _first_seen(
        session, pack_id=pack_id, source=source, user_id=user_id, images=(j.image for j in judgements)
    )
    todo = [j for j in judgements if j.image in counted]
    if not todo:
        session.flush()
        return 0
    new_player = _new_pack_player(session, pack_id=pack_id, source=source, user_id=user_id)
    session.flush()
    key = {"pack_id": pack_id, "source": source}
    _upsert(
        session,
        CrowdImage.__table__,
        [
            {
                **key,
                "image_sha256": j.image,
                "label": j.label,
                "players": 1,
                "correct": int(j.answer == j.label),
                "timeouts": int(j.answer is None),
                "ai_correct": int(j.ai_answer == j.label),
            }
            for j in todo
        ],
        ("pack_id", "source", "image_sha256"),
        ("players", "correct", "timeouts", "ai_correct"),
    )
    options = [
        {**key, "image_sha256": j.image, "option": o, "shown": 1, "chosen": int(o == j.answer)}
        for j in todo
        for o in j.options
    ]
    _upsert(
        session, CrowdOption.__table__, options, ("pack_id", "source", "image_sha256", "option"), ("shown", "chosen")
    )
    times = Counter((j.image, time_bin(j.elapsed_ms)) for j in todo if j.answer is not None)
    _upsert(
        session,
        CrowdTime.__table__,
        [{**key, "image_sha256": image, "bin_ms": b, "count": n} for (image, b), n in sorted(times.items())],
        ("pack_id", "source", "image_sha256", "bin_ms"),
        ("count",),
    )
    cells = Counter((j.label, j.answer) for j in todo if j.answer is not None)
    _upsert(
        session,
        CrowdConfusion.__table__,
        [{**key, "truth": t, "answer": a, "count": n} for (t, a), n in sorted(cells.items())],
        ("pack_id", "source", "truth", "answer"),
        ("count",),
    )
    correct = sum(j.answer == j.label for j in todo)
    _upsert(
        session,
        CrowdPack.__table__,
        [{**key, "players": int(new_player), "answers": len(todo), "correct": correct}],
        ("pack_id", "source"),
        ("players", "answers", "correct"),
    )
    _fold_model(session, pack_id, model_id, [j for j in todo if j.ai_answer is not None])
    return len(todo)


def _fold_model(session: Session, pack_id: str, model_id: str | None, paired: Sequence[Judgement]) -> None:
    if model_id is None or not paired:
        return
    table = Counter((j.answer == j.label, j.ai_answer == j.label) for j in paired)
    row = {
        "pack_id": pack_id,
        "model_id": model_id,
        "both_right": table[True, True],
        "human_only": table[True, False],
        "model_only": table[False, True],
        "both_wrong": table[False, False],
    }
    _upsert(
        session,
        CrowdModel.__table__,
        [row],
        ("pack_id", "model_id"),
        tuple(k for k in row if k.endswith(("right", "only", "wrong"))),
    )


def fold_ranked(*, session: Session, game: GameSession, rounds: Sequence[SessionRound]) -> int:
    """Fold an ended ranked session that reached the boards (not one held for review: see review.decide)."""
    judgements = [
        Judgement(
            image=r.source_sha256 or r.image_sha256,
            label=r.truth,
            options=tuple(r.options),
            answer=None if r.timed_out else r.player_answer,
            elapsed_ms=r.elapsed_ms or 0,
            ai_answer=r.ai_answer,
        )
        for r in rounds
    ]
    return fold(
        session=session,
        pack_id=game.pack_id,
        source=RANKED,
        user_id=game.user_id,
        model_id=game.model_id,
        judgements=judgements,
    )


def fold_offline(*, session: Session, game: GameSession, rounds: Sequence[SessionRound]) -> int:
    """Fold an opted-in offline upload (unverified: the client reported its rounds, truths included)."""
    judgements = [
        Judgement(
            image=r.image_sha256,
            label=r.truth,
            options=tuple(r.options),
            answer=None if r.timed_out else r.player_answer,
            elapsed_ms=r.elapsed_ms or 0,
            ai_answer=r.ai_answer,  # the client's own model: kept per image, never in a model's 2 x 2 table
        )
        for r in rounds
    ]
    return fold(
        session=session,
        pack_id=game.pack_id,
        source=OFFLINE,
        user_id=game.user_id,
        model_id=None,
        judgements=judgements,
    )
