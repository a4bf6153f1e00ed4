"""Classification metrics computed with NumPy alone (usable by the game, the trainer and the server)."""

from __future__ import annotations

from typing import Any

import numpy as np


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth, np.int64), np.asarray(predicted, np.int64)), 1)
    return matrix


def classification_metrics(truth: np.ndarray, probabilities: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """test_accuracy, macro_f1, per_class accuracy (recall) and the confusion matrix, for a model card."""
    truth = np.asarray(truth, np.int64)
    predicted = np.asarray(probabilities).argmax(1)
    matrix = confusion_matrix(truth, predicted, len(classes))
    support = matrix.sum(1)
    predicted_count = matrix.sum(0)
    hits = np.diag(matrix).astype(np.float64)
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)
    precision = np.divide(hits, predicted_count, out=np.zeros_like(hits), where=predicted_count > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(hits), where=denominator > 0)
    present = support > 0
    return {
        "test_accuracy": round(float(hits.sum() / max(1, len(truth))), 4),
        "macro_f1": round(float(f1[present].mean()) if present.any() else 0.0, 4),
        "per_class": {label: round(float(r), 4) for label, r in zip(classes, recall, strict=True)},
        "confusion": matrix.tolist(),
        "n_test": int(len(truth)),
    }


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's kappa between two boolean vectors (e.g. per-image correctness of a human and a model).

    Returns None when undefined (fewer than two items, or both raters constant and identical expectation).
    """
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    if len(a) < 2:
        return None
    observed = float((a == b).mean())
    pa, pb = float(a.mean()), float(b.mean())
    expected = pa * pb + (1 - pa) * (1 - pb)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)
