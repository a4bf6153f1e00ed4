"""Crowd statistics, the reading side: per image, per pack and per model, from the aggregate tables only.

Nothing here reads rounds, so a read costs the same with a thousand stored rounds or a million (benchmarks/
crowd.py). Every statistic is held back until `min_players` distinct players counted, and no per-player value is
ever returned. Shares are floats in 0..1, times milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.crowd import OFFLINE, RANKED
from sync_server.models import (
    AiModel,
    CrowdConfusion,
    CrowdImage,
    CrowdModel,
    CrowdOption,
    CrowdPack,
    CrowdTime,
)
from sync_server.models import Pack as PackRow

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def cohen_kappa(both_right: int, human_only: int, model_only: int, both_wrong: int) -> float | None:
    """Cohen's kappa of two decision makers' correctness on the same trials (Geirhos et al. 2020's error
    consistency): (c_obs - c_exp) / (1 - c_exp), with c_exp = p1 p2 + (1 - p1)(1 - p2) from each one's accuracy.

    None when undefined: no trials, or c_exp = 1 (both always right or always wrong, so nothing to agree on).
    """
    n = both_right + human_only + model_only + both_wrong
    if n == 0:
        return None
    p_human = (both_right + human_only) / n
    p_model = (both_right + model_only) / n
    observed = (both_right + both_wrong) / n
    expected = p_human * p_model + (1 - p_human) * (1 - p_model)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def histogram_quantiles(bins: Mapping[int, int], qs: Sequence[float] = QUANTILES) -> dict[float, int] | None:
    """Quantiles of a time histogram (bin lower edge → count), each read as the lower edge of the bin holding it."""
    total = sum(bins.values())
    if total == 0:
        return None
    out, seen, edges = {}, 0, sorted(bins)
    targets = sorted(qs)
    i = 0
    for edge in edges:
        seen += bins[edge]
        while i < len(targets) and seen >= targets[i] * total:
            out[targets[i]] = edge
            i += 1
    for q in targets[i:]:
        out[q] = edges[-1]
    return out


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class ImageStats:
    """One image's crowd numbers (`enough_players` False: everything else withheld)."""

    enough_players: bool
    players: int | None = None
    timeouts: int | None = None
    accuracy: float | None = None
    ai_accuracy: float | None = None
    answers: dict[str, int] | None = None
    shown: dict[str, int] | None = None
    time_quantiles_ms: dict[float, int] | None = None

    @property
    def median_ms(self) -> int | None:
        return None if self.time_quantiles_ms is None else self.time_quantiles_ms.get(0.5)


def image_stats(
    *, session: Session, pack_id: str, image_sha256: str, source: str = RANKED, min_players: int
) -> ImageStats | None:
    """An image's statistics; None when nobody has been counted on it."""
    row = session.get(CrowdImage, (pack_id, source, image_sha256))
    if row is None:
        return None
    if row.players < min_players:
        return ImageStats(enough_players=False)
    where = (CrowdOption.pack_id == pack_id, CrowdOption.source == source, CrowdOption.image_sha256 == image_sha256)
    options = session.execute(select(CrowdOption.option, CrowdOption.shown, CrowdOption.chosen).where(*where)).all()
    bins = session.execute(
        select(CrowdTime.bin_ms, CrowdTime.count).where(
            CrowdTime.pack_id == pack_id, CrowdTime.source == source, CrowdTime.image_sha256 == image_sha256
        )
    ).all()
    answered = row.players - row.timeouts
    return ImageStats(
        enough_players=True,
        players=row.players,
        timeouts=row.timeouts,
        accuracy=_share(row.correct, answered),
        ai_accuracy=_share(row.ai_correct, row.players),
        answers={o: chosen for o, _shown, chosen in sorted(options) if chosen},
        shown={o: shown for o, shown, _chosen in sorted(options)},
        time_quantiles_ms=histogram_quantiles(dict(bins)),
    )


def _confusion(session: Session, pack_id: str, source: str, classes: list[str]) -> dict[str, Any]:
    cells = session.execute(
        select(CrowdConfusion.truth, CrowdConfusion.answer, CrowdConfusion.count).where(
            CrowdConfusion.pack_id == pack_id, CrowdConfusion.source == source
        )
    ).all()
    labels = list(classes) + sorted({c for t, a, _ in cells for c in (t, a)} - set(classes))
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for truth, answer, n in cells:
        counts[index[truth]][index[answer]] += n
    per_class = [
        {"label": label, "answers": sum(counts[i]), "accuracy": _share(counts[i][i], sum(counts[i]))}
        for i, label in enumerate(labels)
        if sum(counts[i])
    ]
    return {"labels": labels, "counts": counts, "per_class": per_class}


def source_summary(*, session: Session, pack_id: str, source: str, classes: list[str], min_players: int) -> dict:
    """A pack's totals, confusion matrix and per-class accuracy for one source (withheld below the minimum)."""
    row = session.get(CrowdPack, (pack_id, source))
    if row is None or row.players < min_players:
        return {
            "enough_players": False,
            "players": None,
            "answers": None,
            "accuracy": None,
            "confusion": None,
            "per_class": [],
        }
    confusion = _confusion(session, pack_id, source, classes)
    answered = sum(map(sum, confusion["counts"]))
    return {
        "enough_players": True,
        "players": row.players,
        "answers": row.answers,
        "accuracy": _share(row.correct, answered),
        "confusion": {"labels": confusion["labels"], "counts": confusion["counts"]},
        "per_class": confusion["per_class"],
    }


def model_summaries(*, session: Session, pack_id: str) -> list[dict[str, Any]]:
    """Each model's accuracy, the crowd's on the same rounds, and their error consistency."""
    rows = session.execute(
        select(CrowdModel, AiModel.difficulty)
        .join(AiModel, AiModel.id == CrowdModel.model_id, isouter=True)
        .where(CrowdModel.pack_id == pack_id)
        .order_by(CrowdModel.model_id)
    ).all()
    out = []
    for m, difficulty in rows:
        n = m.both_right + m.human_only + m.model_only + m.both_wrong
        out.append(
            {
                "model_id": m.model_id,
                "difficulty": difficulty,
                "rounds": n,
                "accuracy": _share(m.both_right + m.model_only, n),
                "crowd_accuracy": _share(m.both_right + m.human_only, n),
                "error_consistency": cohen_kappa(m.both_right, m.human_only, m.model_only, m.both_wrong),
            }
        )
    return out


def _gallery_row(row: CrowdImage) -> dict[str, Any]:
    answered = row.players - row.timeouts
    return {
        "image_sha256": row.image_sha256,
        "label": row.label,
        "players": row.players,
        "accuracy": _share(row.correct, answered),
        "ai_accuracy": _share(row.ai_correct, row.players),
    }


def galleries(*, session: Session, pack_id: str, min_players: int, size: int) -> dict[str, list[dict[str, Any]]]:
    """The hardest images for people, and the images that fool the AI but not people (enough players only).

    Both walk an index on the keys kept in each row (crowd.ranks), so a gallery reads `size` rows, not the pack.
    """
    base = select(CrowdImage).where(
        CrowdImage.pack_id == pack_id, CrowdImage.source == RANKED, CrowdImage.players >= min_players
    )
    hardest = session.scalars(
        base.where(CrowdImage.accuracy_ppm.is_not(None))
        .order_by(CrowdImage.accuracy_ppm, CrowdImage.image_sha256)
        .limit(size)
    )
    fooling = session.scalars(
        base.where(CrowdImage.fool_ppm.is_not(None))
        .order_by(CrowdImage.fool_ppm.desc(), CrowdImage.image_sha256.desc())
        .limit(size)
    )
    return {"hardest": [_gallery_row(r) for r in hardest], "fool_ai": [_gallery_row(r) for r in fooling]}


def pack_version(*, session: Session, pack_id: str) -> tuple:
    """What changes whenever a fold counts a judgement of the pack (every source) or the pack is re-imported."""
    pack = session.get(PackRow, pack_id)
    rows = session.execute(
        select(CrowdPack.source, CrowdPack.players, CrowdPack.answers, CrowdPack.correct)
        .where(CrowdPack.pack_id == pack_id)
        .order_by(CrowdPack.source)
    ).all()
    return (pack.updated_at if pack else None, *(tuple(row) for row in rows))


class PackStatsCache:
    """The last pack statistics computed per (pack, minimum, gallery size), reused while the pack's version (its
    totals) is unchanged: a pack read is then one small query, however many images and models it has.

    Each worker process keeps its own; a stale entry is impossible because every read checks the version first.
    """

    def __init__(self, max_entries: int = 256) -> None:
        self._entries: dict[tuple, tuple[tuple, dict[str, Any]]] = {}
        self._max = max_entries

    def get(self, *, session: Session, pack_id: str, min_players: int, gallery_size: int = 12) -> dict[str, Any] | None:
        """Like `pack_stats`, from the cache when the pack has not changed since."""
        key = (pack_id, min_players, gallery_size)
        version = pack_version(session=session, pack_id=pack_id)
        cached = self._entries.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        body = pack_stats(session=session, pack_id=pack_id, min_players=min_players, gallery_size=gallery_size)
        if body is not None:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))  # the oldest entry
            self._entries[key] = (version, body)
        return body


def pack_stats(*, session: Session, pack_id: str, min_players: int, gallery_size: int = 12) -> dict[str, Any] | None:
    """Everything the pack endpoint shows; None for a pack the server does not know."""
    pack = session.get(PackRow, pack_id)
    if pack is None:
        return None
    classes = list(pack.classes)
    ranked = source_summary(session=session, pack_id=pack_id, source=RANKED, classes=classes, min_players=min_players)
    offline = source_summary(session=session, pack_id=pack_id, source=OFFLINE, classes=classes, min_players=min_players)
    enough = ranked["enough_players"]
    return {
        "pack_id": pack_id,
        "min_players": min_players,
        **ranked,
        "classes": classes,
        "models": model_summaries(session=session, pack_id=pack_id) if enough else [],
        **(
            galleries(session=session, pack_id=pack_id, min_players=min_players, size=gallery_size)
            if enough
            else {"hardest": [], "fool_ai": []}
        ),
        "unverified": {k: v for k, v in offline.items() if k != "enough_players"}
        if offline["enough_players"]
        else None,
    }
