"""What ranked play needs from packs and models: the ranked images (bytes and labels) and the AI opponents (card
and ONNX file), imported by an admin (docs/design.md §6).

The server runs each opponent on every served variant (sync_server.inference), so it keeps the models themselves;
prediction tables are not used. The ranked set is the pack's ranked split with a labels file, or N images drawn
from a larger labelled split with a secret seed (`pool_selection`), so that which images are ranked is not public.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from classifiers.card import ModelCard
from classifiers.errors import EyeVsAIError
from classifiers.pack import Pack
from game_rules.scoring import DIFFICULTIES
from sync_server.models import AiModel, RankedImage
from sync_server.models import Pack as PackRow


class CatalogError(EyeVsAIError):
    """Ranked data that cannot be imported (labels or models that do not fit the pack)."""


def read_labels(path: Path) -> dict[str, str]:
    """A `ranked_labels.json` file (image sha256 → label), as `eyevsai-train pack build` writes it.

    Raises:
        CatalogError: unreadable or not a JSON object of strings.
    """
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"Ranked labels {path} are not readable JSON ({exc}).") from exc
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise CatalogError(f"Ranked labels {path} must be a JSON object of image sha256 → label.")
    return labels


def pool_selection(pack: Pack, split: str, size: int, secret_seed: str) -> dict[str, str]:
    """`size` labelled images (sha256 → label) of `split`, chosen by sorting the split's present images by
    HMAC-SHA256(secret seed, sha256) and taking the first: reproducible by whoever holds the seed, unguessable
    to anyone else.

    Raises:
        CatalogError: a split without labels, a seed that is not hex, or fewer images than asked for.
    """
    if split == "ranked" or split not in pack.splits:
        raise CatalogError(f"--pool-split must be a labelled split of pack '{pack.id}' (train, val or test).")
    try:
        key = bytes.fromhex(secret_seed)
    except ValueError:
        raise CatalogError(
            "--secret-seed must be hex (e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        ) from None
    entries = {e.sha256: e.label for e in pack.available(split) if e.label}
    if len(entries) < size:
        raise CatalogError(f"Split '{split}' of pack '{pack.id}' has {len(entries)} images present, fewer than {size}.")
    order = sorted(entries, key=lambda sha: hmac.new(key, sha.encode("ascii"), hashlib.sha256).digest())
    return {sha: entries[sha] for sha in order[:size]}


@dataclass(frozen=True)
class ImportSummary:
    pack_id: str
    images: int
    skipped_unlabelled: int
    models: list[tuple[str, str]]  # (model id, difficulty)


def _check_models(pack: Pack, models: Sequence[tuple[ModelCard, bytes]]) -> None:
    for card, onnx in models:
        if card.pack_id != pack.id:
            raise CatalogError(f"Model {card.id!r} was trained on pack {card.pack_id!r}, not {pack.id!r}.")
        if card.difficulty not in DIFFICULTIES:
            raise CatalogError(
                f"Model {card.id!r} has difficulty {card.difficulty!r}; expected one of "
                f"{list(DIFFICULTIES)}. Rank the pack's models with eyevsai-train first."
            )
        if not set(pack.classes) <= set(card.classes):
            raise CatalogError(f"Model {card.id!r} does not know every class of pack '{pack.id}'.")
        if card.onnx_sha256 and hashlib.sha256(onnx).hexdigest() != card.onnx_sha256:
            raise CatalogError(f"Model {card.id!r}: its ONNX file does not match the card's onnx_sha256.")


def import_ranked(
    *, session: Session, pack: Pack, labels: Mapping[str, str], models: Sequence[tuple[ModelCard, bytes]]
) -> ImportSummary:
    """Store (or replace) a pack's ranked set (`labels`: image sha256 → label, each image in the pack) with the
    images' bytes, and its models (card, ONNX bytes).

    Re-importing replaces the pack's images and the named models; sessions already played keep their rounds.

    Raises:
        CatalogError: an empty set, labels outside the pack's classes, images missing from the pack, models of
        another pack.
    """
    if not labels:
        raise CatalogError(f"No ranked image of pack '{pack.id}' has a label. Use the pack's ranked_labels.json.")
    wrong = sorted(set(labels.values()) - set(pack.classes))
    if wrong:
        raise CatalogError(f"Ranked labels {wrong} are not classes of pack '{pack.id}' ({sorted(pack.classes)}).")
    missing = [sha for sha in labels if not pack.has_image(sha)]
    if missing:
        raise CatalogError(f"Pack '{pack.id}' has no file for {len(missing)} ranked image(s), e.g. {missing[0][:12]}…")
    _check_models(pack, models)
    row = session.get(PackRow, pack.id)
    if row is None:
        session.add(PackRow(id=pack.id, title=pack.title[:200], classes=list(pack.classes)))
    else:
        row.title, row.classes = pack.title[:200], list(pack.classes)
    session.execute(delete(RankedImage).where(RankedImage.pack_id == pack.id))
    session.add_all(
        RankedImage(pack_id=pack.id, sha256=sha, label=label, data=pack.read_bytes(sha))
        for sha, label in sorted(labels.items())
    )
    for card, onnx in models:
        model = session.get(AiModel, card.id)
        if model is None:
            model = AiModel(id=card.id)
            session.add(model)
        model.pack_id, model.title, model.difficulty = pack.id, card.title[:200], card.difficulty
        model.onnx_sha256 = hashlib.sha256(onnx).hexdigest()
        model.classes, model.is_active = list(card.classes), True
        model.card, model.onnx = card.to_json_obj(), onnx
    session.commit()
    return ImportSummary(pack.id, len(labels), 0, [(card.id, str(card.difficulty)) for card, _ in models])


def pack_classes(*, session: Session, pack_id: str) -> list[str] | None:
    row = session.get(PackRow, pack_id)
    return None if row is None else list(row.classes)


def ranked_images(*, session: Session, pack_id: str) -> list[tuple[str, str]]:
    """(sha256, label) of a pack's playable ranked images, sorted by sha256 (the order the deal indexes)."""
    rows = session.execute(
        select(RankedImage.sha256, RankedImage.label).where(RankedImage.pack_id == pack_id).order_by(RankedImage.sha256)
    ).all()
    return [(sha, label) for sha, label in rows]


def ranked_image_bytes(*, session: Session, pack_id: str, sha256: str) -> bytes | None:
    """The stored bytes of a ranked image (None: imported before the server kept them)."""
    return session.scalar(select(RankedImage.data).where(RankedImage.pack_id == pack_id, RankedImage.sha256 == sha256))


def ranked_image_count(*, session: Session, pack_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(RankedImage).where(RankedImage.pack_id == pack_id)) or 0)


def active_models(*, session: Session, pack_id: str, difficulty: str) -> list[AiModel]:
    return list(
        session.scalars(
            select(AiModel)
            .where(AiModel.pack_id == pack_id, AiModel.difficulty == difficulty, AiModel.is_active.is_(True))
            .order_by(AiModel.id)
        )
    )
