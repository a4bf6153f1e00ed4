"""Training one model end to end: fit → export ONNX → parity check → test evaluation → model card.

`train_model` is a generator of Progress events returning a TrainResult, driven by the CLI (progress bar),
the GUI (a worker thread) and the pipeline (worker processes) alike.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifiers.batch_prediction import BATCH, predict_images
from classifiers.card import ONNX_FILE, ModelCard, discover_models, file_sha256, write_card
from classifiers.families.base import load_split_images
from classifiers.families.params import hyperparams_of
from classifiers.metrics import classification_metrics
from classifiers.pack import Pack
from classifiers.parity import ParityReport, check_parity
from classifiers.progress import Progress
from classifiers.registry import get_family
from classifiers.runtime import OnnxClassifier
from trainer.model_registry import rank_cards

TRAINER_VERSION = "0.1.0"
PARITY_IMAGES = 64


@dataclass
class TrainResult:
    model_dir: Path
    card: ModelCard
    parity: ParityReport
    seconds: float


def default_model_id(pack_id: str, family: str, variant: str) -> str:
    return f"{pack_id}-{family}-{variant}-{datetime.now(UTC):%Y%m%d%H%M%S}"


def evaluate_on_test(classifier: OnnxClassifier, pack: Pack, batch: int = BATCH) -> Generator[Progress, None, dict]:
    """Metrics of an ONNX model on the pack's test split, yielding progress per batch."""
    shas, truth = pack.labelled("test")
    if not shas:
        return {"test_accuracy": 0.0, "macro_f1": 0.0, "per_class": {}, "confusion": [], "n_test": 0}
    result = yield from predict_images(
        classifier, pack, shas, batch=batch, stage="evaluate", message="evaluating on the test split"
    )
    return classification_metrics(truth, result.probabilities, list(pack.classes))


def train_model(
    family: str,
    pack: Pack,
    models_dir: str | Path,
    *,
    variant: str | None = None,
    params: dict[str, Any] | None = None,
    model_id: str | None = None,
    title: str | None = None,
    training_notes: dict[str, Any] | None = None,
    reassign: bool = True,
) -> Generator[Progress, None, TrainResult]:
    """Train, export, check and register a model into models_dir/<model_id>/.

    Args:
        training_notes: extra entries for the card's `training` (e.g. how the hyperparameters were tuned).
        reassign: recompute the difficulty of every model of the pack in models_dir afterwards. The pipeline
            turns it off: its parent process ranks the registry's models once per finished job instead.

    Raises:
        ParityError: the ONNX export disagrees with the framework model (nothing is written).
        PackError / ValueError: bad pack or hyperparameters.
    """
    started = time.perf_counter()
    info = get_family(family)
    estimator = info.create(variant, **(params or {}))
    model_id = model_id or default_model_id(pack.id, info.name, estimator.variant)
    final_dir = Path(models_dir) / model_id
    work_dir = final_dir.with_name(final_dir.name + ".partial")
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    try:
        yield from estimator.fit(pack)
        yield Progress("export", 0, 1, "exporting to ONNX")
        opset = estimator.export_onnx(work_dir / ONNX_FILE)
        parity = yield from _parity(estimator, pack, work_dir)
        card = ModelCard(
            id=model_id,
            title=title or f"{info.name} {estimator.variant} on {pack.title}",
            family=info.name,
            variant=estimator.variant,
            pack_id=pack.id,
            classes=list(estimator.classes_),
            input=estimator.input_spec(),
            onnx_sha256=file_sha256(work_dir / ONNX_FILE),
            opset=opset,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            trainer_version=TRAINER_VERSION,
            training={
                "params": _card_params(estimator),
                "parity": parity.as_dict(),
                **getattr(estimator, "training_info_", {}),
                **(training_notes or {}),
            },
        )
        classifier = OnnxClassifier(work_dir, card=card, device="cpu")
        card.metrics = yield from evaluate_on_test(classifier, pack)
        card.training["seconds"] = round(time.perf_counter() - started, 1)
        write_card(card, work_dir)
        if final_dir.exists():
            shutil.rmtree(final_dir)
        work_dir.replace(final_dir)
        if reassign:
            card.difficulty = reassign_difficulties(final_dir.parent, pack.id).get(card.id)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return TrainResult(final_dir, card, parity, time.perf_counter() - started)


def _card_params(estimator: Any) -> dict[str, Any]:
    """The estimator's parameters as its card records them: without run settings such as `threads`."""
    declared = hyperparams_of(estimator)
    params = estimator.get_params()
    return declared.card_params(params) if declared else params


def _parity(estimator: Any, pack: Pack, work_dir: Path) -> Generator[Progress, None, ParityReport]:
    """Framework vs onnxruntime on held-out images (val split, else test)."""
    split = "val" if pack.splits["val"] else "test"
    images, _ = load_split_images(pack, split, limit=PARITY_IMAGES)
    yield Progress("export", 0, 1, f"checking ONNX parity on {len(images)} {split} images")
    card_stub = ModelCard(
        id="parity",
        title="parity",
        family="parity",
        variant="",
        pack_id=pack.id,
        classes=list(estimator.classes_),
        input=estimator.input_spec(),
    )
    exported = OnnxClassifier(work_dir, card=card_stub, device="cpu").predict_batch(images)
    report = check_parity(estimator.predict_proba(images), exported)
    yield Progress("export", 1, 1, f"parity ok: max abs diff {report.max_abs_diff:.1e}")
    return report


def reassign_difficulties(models_dir: str | Path, pack_id: str) -> dict[str, str]:
    """Recompute easy/medium/hard for every model of pack_id in models_dir and rewrite changed cards."""
    models, _problems = discover_models(models_dir)
    return rank_cards({card.id: (path, card) for path, card in models if card.pack_id == pack_id}.values())
