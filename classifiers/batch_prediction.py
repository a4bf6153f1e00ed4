"""Running a model over a pack's images in batches: the one path behind the game's opponent, the trainer's
evaluation and per-image predictions, and the prediction tables that publish writes and import-pack computes.

`predict_images` is a generator of Progress events (one per batch) returning a `BatchPrediction`; a caller that
wants no progress drives it with `classifiers.progress.run_to_end`.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.card import ModelCard
from classifiers.errors import ImageDecodeError, PackError
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.runtime import OnnxClassifier
from game_rules.prediction_table import PredictionTable

BATCH = 64
TABLE_DEVICE = "cpu"  # tables are compared across machines: GPU kernels would round differently


@dataclass(frozen=True)
class BatchPrediction:
    """What a model said about a list of pack images.

    Attributes:
        classes: the column order of `probabilities` (the model card's class order).
        shas: the images predicted, in the order asked for; unreadable images are left out.
        probabilities: float32 array (len(shas), len(classes)).
        unreadable: the images asked for that were missing or could not be decoded (only with skip_unreadable).
    """

    classes: list[str]
    shas: list[str]
    probabilities: np.ndarray
    unreadable: list[str]

    def by_image(self) -> dict[str, dict[str, float]]:
        """{image sha256: {label: probability}}."""
        return {
            sha: {label: float(p) for label, p in zip(self.classes, row, strict=True)}
            for sha, row in zip(self.shas, self.probabilities, strict=True)
        }


def predict_images(
    classifier: OnnxClassifier,
    pack: Pack,
    shas: Sequence[str],
    *,
    batch: int = BATCH,
    skip_unreadable: bool = False,
    stage: str = "predict",
    message: str = "predicting images",
) -> Generator[Progress, None, BatchPrediction]:
    """Load the images through the pack and run the model on them, `batch` images at a time.

    Args:
        classifier: the model; its card's preprocessing is applied (OnnxClassifier.predict_batch).
        shas: the images, by sha256, in the order the result keeps.
        skip_unreadable: leave out images that are missing or cannot be decoded instead of raising.
        stage, message: the Progress events' stage and the start of their message (" (done/total)" follows).

    Yields:
        Progress(stage, images done, len(shas)) after each batch.

    Raises:
        PackError / ImageDecodeError: an image is missing or cannot be decoded (the message names it), unless
            skip_unreadable.
        ModelCardError: the model returned output of the wrong shape.
        ValueError: batch is smaller than 1.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}.")
    shas = list(shas)
    classes = list(classifier.card.classes)
    kept: list[str] = []
    unreadable: list[str] = []
    rows: list[np.ndarray] = []
    for start in range(0, len(shas), batch):
        images = []
        for sha in shas[start : start + batch]:
            try:
                images.append(pack.load_image(sha))
            except (PackError, ImageDecodeError):
                if not skip_unreadable:
                    raise
                unreadable.append(sha)
                continue
            kept.append(sha)
        if images:  # a batch of unreadable images only has nothing to run
            rows.append(classifier.predict_batch(images))
        done = min(start + batch, len(shas))
        yield Progress(stage, done, len(shas), f"{message} ({done}/{len(shas)})")
    probabilities = np.concatenate(rows) if rows else np.zeros((0, len(classes)), np.float32)
    return BatchPrediction(classes, kept, probabilities, unreadable)


def compute_prediction_table(
    model_dir: str | Path, card: ModelCard, pack: Pack, shas: Sequence[str], *, batch: int = BATCH
) -> Generator[Progress, None, PredictionTable]:
    """The prediction table of the model in model_dir on the given images (onnxruntime on the CPU), yielding
    progress per batch. The trainer's publish and the server's import-pack both make their tables here.

    Raises:
        ModelCardError: the model cannot be loaded or does not match its card.
        PackError / ImageDecodeError: an image is missing or cannot be decoded.
    """
    classifier = OnnxClassifier(model_dir, card=card, device=TABLE_DEVICE)
    result = yield from predict_images(
        classifier, pack, shas, batch=batch, stage="ranked", message=f"{card.id}: predictions on the ranked split"
    )
    rows = zip(result.shas, result.probabilities.tolist(), strict=True)
    return PredictionTable.from_rows(card.id, card.onnx_sha256, card.classes, rows)
