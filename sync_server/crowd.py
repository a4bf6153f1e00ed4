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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Table, and_, case, literal, null, select
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


PPM = 1_000_000


def ranks(correct: Any, players: Any, timeouts: Any, ai_correct: Any) -> tuple[Any, Any]:
    """An image's gallery keys, for Python ints or SQL expressions alike: people's accuracy in ppm (None: nobody
    answered), and how much more often people than the AI are right, in ppm, only where the AI is wrong more often
    than right and people right more often than not (else None). Kept in the row, indexed, so that a gallery is
    an index walk rather than a sort of every image of the pack."""
    answered = players - timeouts
    if isinstance(correct, int):
        accuracy = correct * PPM // answered if answered else None
        fools = accuracy is not None and ai_correct * 2 < players and correct * 2 > answered
        return accuracy, (accuracy - ai_correct * PPM // players) if fools else None
    big = literal(PPM, BigInteger)  # PostgreSQL's integer * integer would overflow past 2,147 judgements
    accuracy = case((answered > 0, correct * big / answered), else_=null())
    fools = and_(ai_correct * 2 < players, correct * 2 > answered)
    return accuracy, case((fools, accuracy - ai_correct * big / players), else_=null())


def _upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict],
    keys: Sequence[str],
    counters: Sequence[str],
    derived: Callable[[dict], dict] | None = None,
) -> None:
    """Insert rows, or add their counters to the rows already there (`derived`: more columns computed from the
    new totals, given as {counter: SQL expression of its new value})."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    totals = {c: table.c[c] + stmt.excluded[c] for c in counters}
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={**totals, **(derived(totals) if derived else {})}
    )
    session.execute(stmt, list(rows))


def with_ranks(row: dict) -> dict:
    """An image row with its gallery keys computed from its counters."""
    accuracy, fool = ranks(row["correct"], row["players"], row["timeouts"], row["ai_correct"])
    return {**row, "accuracy_ppm": accuracy, "fool_ppm": fool}


def _image_ranks(totals: dict) -> dict:
    accuracy, fool = ranks(totals["correct"], totals["players"], totals["timeouts"], totals["ai_correct"])
    return {"accuracy_ppm": accuracy, "fool_ppm": fool}


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
    # Rows are written in key order, so two sessions ending at once lock shared rows in the same order and
    # PostgreSQL never sees a deadlock between them.
    todo = sorted((j for j in judgements if j.image in counted), key=lambda j: j.image)
    if not todo:
        session.flush()
        return 0
    new_player = _new_pack_player(session, pack_id=pack_id, source=source, user_id=user_id)
    session.flush()
    key = {"pack_id": pack_id, "source": source}
    _fold_images(session, key, todo)
    _fold_pack(session, key, todo, new_player)
    _fold_model(session, pack_id, model_id, [j for j in todo if j.ai_answer is not None])
    return len(todo)


def _fold_images(session: Session, key: dict[str, str], todo: Sequence[Judgement]) -> None:
    """Per image: the counters (and gallery keys), the options shown and chosen, the answer-time histogram."""
    _upsert(
        session,
        CrowdImage.__table__,
        [
            with_ranks(
                {
                    **key,
                    "image_sha256": j.image,
                    "label": j.label,
                    "players": 1,
                    "correct": int(j.answer == j.label),
                    "timeouts": int(j.answer is None),
                    "ai_correct": int(j.ai_answer == j.label),
                }
            )
            for j in todo
        ],
        ("pack_id", "source", "image_sha256"),
        ("players", "correct", "timeouts", "ai_correct"),
        derived=_image_ranks,
    )
    options = [
        {**key, "image_sha256": j.image, "option": o, "shown": 1, "chosen": int(o == j.answer)}
        for j in todo
        for o in sorted(j.options)
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


def _fold_pack(session: Session, key: dict[str, str], todo: Sequence[Judgement], new_player: bool) -> None:
    """Per pack: the confusion matrix cells and the totals."""
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
