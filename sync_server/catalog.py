"""What ranked play needs from packs and models: ranked labels and prediction tables, imported by an admin.

The server never runs a model during a game: an AI's answers come from its prediction table (image sha256 →
probabilities in the model's class order), made once from the model's ONNX file on the pack's ranked split.
Its type and file format are `game_rules.prediction_table`; a model imported without one gets it computed by
`classifiers.batch_prediction.compute_prediction_table`, as the trainer's publish computes it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from classifiers.card import ModelCard
from classifiers.errors import EyeVsAIError
from classifiers.pack import Pack
from game_rules.prediction_table import PredictionTable, PredictionTableError
from game_rules.scoring import DIFFICULTIES
from sync_server.models import AiModel, Prediction, RankedImage
from sync_server.models import Pack as PackRow


class CatalogError(EyeVsAIError):
    """Ranked data that cannot be imported (labels or predictions that do not fit the pack)."""


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


def read_prediction_table(path: Path) -> PredictionTable:
    """A prediction table file, as `eyevsai-train publish` writes it.

    Raises:
        CatalogError: an unreadable or malformed table.
    """
    try:
        return PredictionTable.parse(path.read_text(encoding="utf-8"), source=f"Prediction table {path}")
    except OSError as exc:
        raise CatalogError(f"Cannot read prediction table {path}: {exc.strerror or exc}.") from exc
    except PredictionTableError as exc:  # the admin CLI reports catalog errors as one line with exit code 2
        raise CatalogError(str(exc)) from exc


@dataclass(frozen=True)
class ImportSummary:
    pack_id: str
    images: int
    skipped_unlabelled: int
    models: list[tuple[str, str]]  # (model id, difficulty)


def _check_table(table: PredictionTable, card: ModelCard, images: Iterable[str]) -> None:
    if table.model_id != card.id or (card.onnx_sha256 and table.onnx_sha256 != card.onnx_sha256):
        raise CatalogError(
            f"Prediction table is for model {table.model_id!r} ({table.onnx_sha256[:12]}…), not for "
            f"{card.id!r} ({card.onnx_sha256[:12]}…). Export the table again from this model."
        )
    if table.classes != list(card.classes):
        raise CatalogError(f"Prediction table of {card.id!r} lists classes {table.classes}, the card {card.classes}.")
    missing = [sha for sha in images if sha not in table.predictions]
    if missing:
        raise CatalogError(
            f"Prediction table of {card.id!r} has no row for {len(missing)} ranked image(s), e.g. "
            f"{missing[0][:12]}…. Export it again on the pack's whole ranked split."
        )
    for sha, row in table.predictions.items():
        if len(row) != len(card.classes) or not all(math.isfinite(p) and 0 <= p <= 1.0001 for p in row):
            raise CatalogError(
                f"Prediction table of {card.id!r}: the row of {sha[:12]}… is not {len(card.classes)} probabilities."
            )


def import_ranked(
    *, session: Session, pack: Pack, labels: Mapping[str, str], models: Sequence[tuple[ModelCard, PredictionTable]]
) -> ImportSummary:
    """Store (or replace) a pack's ranked images with their labels, and its models with their predictions.

    Only images of the pack's ranked split that have a label are playable; a model must cover all of them.
    Re-importing replaces the pack's images and the named models; sessions already played keep their rounds.

    Raises:
        CatalogError: labels outside the pack's classes, models of another pack, tables that do not fit.
    """
    classes = set(pack.classes)
    ranked = sorted({entry.sha256 for entry in pack.splits["ranked"]})
    playable = [sha for sha in ranked if sha in labels]
    if not playable:
        raise CatalogError(
            f"None of the {len(ranked)} ranked images of pack '{pack.id}' has a label in the "
            "labels file. Use the ranked_labels.json written when the pack was built."
        )
    wrong = sorted({labels[sha] for sha in playable} - classes)
    if wrong:
        raise CatalogError(f"Ranked labels {wrong} are not classes of pack '{pack.id}' ({sorted(classes)}).")
    for card, table in models:
        if card.pack_id != pack.id:
            raise CatalogError(f"Model {card.id!r} was trained on pack {card.pack_id!r}, not {pack.id!r}.")
        if card.difficulty not in DIFFICULTIES:
            raise CatalogError(
                f"Model {card.id!r} has difficulty {card.difficulty!r}; expected one of "
                f"{list(DIFFICULTIES)}. Rank the pack's models with eyevsai-train first."
            )
        if not set(pack.classes) <= set(card.classes):
            raise CatalogError(f"Model {card.id!r} does not know every class of pack '{pack.id}'.")
        _check_table(table, card, playable)

    row = session.get(PackRow, pack.id)
    if row is None:
        session.add(PackRow(id=pack.id, title=pack.title[:200], classes=list(pack.classes)))
    else:
        row.title, row.classes = pack.title[:200], list(pack.classes)
    session.execute(delete(RankedImage).where(RankedImage.pack_id == pack.id))
    session.add_all(RankedImage(pack_id=pack.id, sha256=sha, label=labels[sha]) for sha in playable)
    for card, table in models:
        session.execute(delete(Prediction).where(Prediction.model_id == card.id))
        model = session.get(AiModel, card.id)
        if model is None:
            model = AiModel(id=card.id)
            session.add(model)
        model.pack_id, model.title, model.difficulty = pack.id, card.title[:200], card.difficulty
        model.onnx_sha256, model.classes, model.is_active = table.onnx_sha256, list(card.classes), True
        session.flush()
        session.add_all(
            Prediction(model_id=card.id, image_sha256=sha, probabilities=table.predictions[sha]) for sha in playable
        )
    session.commit()
    return ImportSummary(
        pack.id, len(playable), len(ranked) - len(playable), [(card.id, str(card.difficulty)) for card, _ in models]
    )


def pack_classes(*, session: Session, pack_id: str) -> list[str] | None:
    row = session.get(PackRow, pack_id)
    return None if row is None else list(row.classes)


def ranked_images(*, session: Session, pack_id: str) -> list[tuple[str, str]]:
    """(sha256, label) of a pack's playable ranked images, sorted by sha256 (the order the deal indexes)."""
    rows = session.execute(
        select(RankedImage.sha256, RankedImage.label).where(RankedImage.pack_id == pack_id).order_by(RankedImage.sha256)
    ).all()
    return [(sha, label) for sha, label in rows]


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


def prediction(*, session: Session, model_id: str, image_sha256: str) -> list[float] | None:
    row = session.get(Prediction, (model_id, image_sha256))
    return None if row is None else list(row.probabilities)
