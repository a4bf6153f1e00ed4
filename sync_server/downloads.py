"""The download catalog: packs and models published for the game's "Get more packs" screen (docs/design.md §6).

Not the ranked catalog (sync_server/catalog.py, what ranked sessions deal from): a pack can be downloadable
without being ranked. `publish` stores a checked publish directory's files in the content store and records, in
one transaction, each pack's summary, its models' summaries and its manifest (every file with its install path,
SHA-256 and size). Files are then served by hash (sync_server/api/routes/downloads.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sync_server.models import DownloadFile, DownloadModel, DownloadPack
from sync_server.pack_store import ContentStore
from sync_server.published_dir import PackBundle, PublishError


@dataclass(frozen=True)
class PublishSummary:
    """What `publish` did for one pack (the CLI prints it)."""

    pack_id: str
    title: str
    files: int
    size_bytes: int
    models: list[tuple[str, str | None]]  # (model id, difficulty)


def store_files(store: ContentStore, bundles: list[PackBundle], progress: Callable[[int, int], None]) -> None:
    """Put every file of the bundles in the store (files already there are skipped by the store)."""
    files = {f.sha256: f for bundle in bundles for f in bundle.files}
    for done, published in enumerate(files.values(), start=1):
        store.put(published.source, published.sha256)
        progress(done, len(files))


def record(*, session: Session, bundles: list[PackBundle], now: dt.datetime) -> list[PublishSummary]:
    """Replace each bundle's pack, models and manifest in the catalog, in one transaction.

    Raises:
        PublishError: a model id is already published with another pack.
    """
    summaries = []
    for bundle in bundles:
        pack = bundle.pack
        for card in bundle.models:
            other = session.scalar(select(DownloadModel.pack_id).where(DownloadModel.id == card.id))
            if other is not None and other != pack.id:
                raise PublishError(f"Model '{card.id}' is already published with pack '{other}'; rename one of them.")
        session.execute(delete(DownloadFile).where(DownloadFile.pack_id == pack.id))
        session.execute(delete(DownloadModel).where(DownloadModel.pack_id == pack.id))
        session.execute(delete(DownloadPack).where(DownloadPack.id == pack.id))
        session.flush()
        session.add(_pack_row(bundle, now))
        session.flush()  # the pack row before the rows that refer to it (PostgreSQL checks at once)
        session.add_all(_model_row(bundle, card) for card in bundle.models)
        session.add_all(
            DownloadFile(pack_id=pack.id, path=f.path, sha256=f.sha256, size=f.size, model_id=f.model_id)
            for f in bundle.files
        )
        summaries.append(
            PublishSummary(
                pack.id,
                pack.title,
                len(bundle.files),
                sum(f.size for f in bundle.files),
                [(card.id, card.difficulty) for card in bundle.models],
            )
        )
    session.commit()
    return summaries


def _pack_row(bundle: PackBundle, now: dt.datetime) -> DownloadPack:
    pack = bundle.pack
    return DownloadPack(
        id=pack.id,
        title=pack.title[:200],
        version=int(pack.meta.get("version") or 1),
        licence=str(pack.meta.get("licence") or "")[:500],
        source=str(pack.meta.get("source") or "")[:1000],
        classes=list(pack.classes),
        image_size=list(pack.image_size) if pack.image_size else None,
        images=len({e.sha256 for split in pack.splits.values() for e in split}),
        size_bytes=bundle.size_of(None),
        samples=bundle.samples,
        published_at=now,
    )


def _model_row(bundle: PackBundle, card) -> DownloadModel:  # noqa: ANN001 - classifiers.card.ModelCard
    macro_f1 = card.metrics.get("macro_f1")
    return DownloadModel(
        id=card.id,
        pack_id=bundle.pack.id,
        title=card.title[:200],
        family=card.family[:50],
        variant=card.variant[:100],
        difficulty=card.difficulty,
        test_accuracy=card.test_accuracy,
        macro_f1=None if macro_f1 is None else float(macro_f1),
        size_bytes=bundle.size_of(card.id),
        onnx_sha256=card.onnx_sha256,
    )


# -- reading -------------------------------------------------------------------------------------------------------
def list_packs(*, session: Session) -> list[tuple[DownloadPack, list[DownloadModel]]]:
    """Every published pack (by title) with its models, strongest first."""
    packs = list(session.scalars(select(DownloadPack).order_by(DownloadPack.title, DownloadPack.id)))
    models: dict[str, list[DownloadModel]] = {p.id: [] for p in packs}
    for model in session.scalars(select(DownloadModel)):
        models.setdefault(model.pack_id, []).append(model)
    for group in models.values():
        group.sort(key=lambda m: (m.test_accuracy or 0.0, m.id), reverse=True)
    return [(pack, models[pack.id]) for pack in packs]


def find_pack(*, session: Session, pack_id: str) -> tuple[DownloadPack, list[DownloadModel]] | None:
    pack = session.get(DownloadPack, pack_id)
    if pack is None:
        return None
    models = sorted(
        session.scalars(select(DownloadModel).where(DownloadModel.pack_id == pack_id)),
        key=lambda m: (m.test_accuracy or 0.0, m.id),
        reverse=True,
    )
    return pack, models


def manifest(*, session: Session, pack_id: str) -> list[DownloadFile]:
    """The pack's files (pack and models), sorted by path."""
    return list(
        session.scalars(select(DownloadFile).where(DownloadFile.pack_id == pack_id).order_by(DownloadFile.path))
    )


def find_file(*, session: Session, sha256: str) -> DownloadFile | None:
    """A published file with this hash (any pack's), or None: only what some manifest lists is served."""
    return session.scalars(select(DownloadFile).where(DownloadFile.sha256 == sha256).limit(1)).first()
