"""Per-image test predictions of a trained model: what the confusion matrix counts, image by image.

A model card keeps the confusion matrix but not which images landed in which cell; the trainer GUI re-runs the
exported ONNX model on the pack's test split (fast: it is the game's own runtime) to show, for a clicked cell,
the images with their true and predicted labels and the model's confidence.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.batch_prediction import BATCH, predict_images
from classifiers.errors import ModelCardError
from classifiers.metrics import confusion_matrix
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.runtime import OnnxClassifier


@dataclass(frozen=True)
class Prediction:
    """One test image: its hash, true and predicted class indices, and the probability of the prediction."""

    sha256: str
    truth: int
    predicted: int
    confidence: float

    @property
    def is_correct(self) -> bool:
        return self.truth == self.predicted


@dataclass
class SplitPredictions:
    """A model's predictions on every test image of a pack, indexed by confusion-matrix cell."""

    model_id: str
    classes: list[str]
    items: list[Prediction] = field(default_factory=list)

    def cell(self, truth: int, predicted: int) -> list[Prediction]:
        """The images of true class `truth` predicted as `predicted`, most confident first."""
        found = [p for p in self.items if p.truth == truth and p.predicted == predicted]
        return sorted(found, key=lambda p: (-p.confidence, p.sha256))

    def confusion(self) -> np.ndarray:
        truth = np.array([p.truth for p in self.items], np.int64)
        predicted = np.array([p.predicted for p in self.items], np.int64)
        return confusion_matrix(truth, predicted, len(self.classes))

    def accuracy(self) -> float:
        return float(np.mean([p.is_correct for p in self.items])) if self.items else 0.0


def check_compatible(classifier: OnnxClassifier, pack: Pack) -> None:
    """Raise ModelCardError when the model's classes are not the pack's (its columns would be misread)."""
    if list(classifier.card.classes) != list(pack.classes):
        raise ModelCardError(
            f"Model '{classifier.card.id}' predicts {classifier.card.classes} but pack '{pack.id}' has classes "
            f"{pack.classes}. Open the model with the pack it was trained on."
        )


def predict_test_split(
    model_dir: str | Path, pack: Pack, *, batch: int = BATCH, device: str = "cpu"
) -> Generator[Progress, None, SplitPredictions]:
    """Run the model in model_dir over the pack's test images (those present), yielding progress per batch.

    Raises:
        ModelCardError: a broken model folder, or a model trained for other classes.
    """
    classifier = OnnxClassifier(model_dir, device=device)
    check_compatible(classifier, pack)
    index = {name: i for i, name in enumerate(pack.classes)}
    entries = pack.available("test")
    result = yield from predict_images(
        classifier, pack, [e.sha256 for e in entries], batch=batch, message="predicting test images"
    )
    predictions = SplitPredictions(classifier.card.id, list(pack.classes))
    for entry, row in zip(entries, result.probabilities, strict=True):
        guess = int(row.argmax())
        # float32 sums can exceed 1 by an ulp; a probability shown as "100.00001%" would look broken
        confidence = min(1.0, float(row[guess]))
        predictions.items.append(Prediction(entry.sha256, index[entry.label], guess, confidence))
    return predictions
