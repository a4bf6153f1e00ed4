"""Classification metrics for model cards, and Cohen's kappa for human/model agreement."""

from __future__ import annotations

import json

import numpy as np
import pytest

from classifiers.metrics import classification_metrics, cohen_kappa, confusion_matrix

CLASSES = ["cat", "dog", "frog"]
TRUTH = np.array([0, 0, 1, 1, 2, 2])
PREDICTED = np.array([0, 1, 1, 1, 2, 0])


def _one_hot(predicted: np.ndarray, n_classes: int) -> np.ndarray:
    probs = np.full((len(predicted), n_classes), 0.1)
    probs[np.arange(len(predicted)), predicted] = 0.8
    return probs


def test_confusion_matrix_rows_are_truth_columns_predictions() -> None:
    matrix = confusion_matrix(TRUTH, PREDICTED, 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    assert matrix.sum() == len(TRUTH)


def test_classification_metrics_on_a_hand_computed_example() -> None:
    metrics = classification_metrics(TRUTH, _one_hot(PREDICTED, 3), CLASSES)
    assert metrics["test_accuracy"] == pytest.approx(0.6667)  # 4 of 6
    # per class: precision 1/2, 2/3, 1/1; recall 1/2, 1, 1/2; F1 0.5, 0.8, 2/3
    assert metrics["macro_f1"] == pytest.approx(round((0.5 + 0.8 + 2 / 3) / 3, 4))
    assert metrics["per_class"] == {"cat": 0.5, "dog": 1.0, "frog": 0.5}
    assert metrics["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert metrics["n_test"] == 6


def test_metrics_agree_with_scikit_learn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 200)
    probs = rng.random((200, 4))
    probs[np.arange(200), truth] += rng.random(200)  # better than chance
    predicted = probs.argmax(1)
    metrics = classification_metrics(truth, probs, ["a", "b", "c", "d"])
    assert metrics["test_accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(truth, predicted), abs=1e-4)
    assert metrics["macro_f1"] == pytest.approx(sklearn_metrics.f1_score(truth, predicted, average="macro"), abs=1e-4)
    np.testing.assert_array_equal(metrics["confusion"], sklearn_metrics.confusion_matrix(truth, predicted))


def test_perfect_predictions() -> None:
    metrics = classification_metrics(TRUTH, _one_hot(TRUTH, 3), CLASSES)
    assert metrics["test_accuracy"] == 1.0
    assert metrics["macro_f1"] == 1.0


def test_class_absent_from_the_test_split_does_not_drag_macro_f1_down() -> None:
    truth = np.array([0, 0, 1, 1])
    metrics = classification_metrics(truth, _one_hot(truth, 3), CLASSES)
    assert metrics["macro_f1"] == 1.0
    assert metrics["per_class"]["frog"] == 0.0
    assert metrics["confusion"][2] == [0, 0, 0]


def test_metrics_are_json_ready() -> None:
    metrics = classification_metrics(TRUTH, _one_hot(PREDICTED, 3), CLASSES)
    assert json.loads(json.dumps(metrics)) == metrics


@pytest.mark.parametrize(
    ("a", "b", "kappa"),
    [
        ([1, 1, 0, 0], [1, 0, 0, 0], 0.5),  # observed 3/4, expected 1/2
        ([1, 0, 1, 0], [1, 0, 1, 0], 1.0),
        ([1, 0, 1, 0], [0, 1, 0, 1], -1.0),
        ([1, 1, 1, 0, 0, 0], [1, 0, 1, 0, 1, 0], 1 / 3),  # observed 4/6, expected 1/2
    ],
)
def test_cohen_kappa_known_values(a: list[int], b: list[int], kappa: float) -> None:
    assert cohen_kappa(np.array(a), np.array(b)) == pytest.approx(kappa)


def test_cohen_kappa_agrees_with_scikit_learn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    a = rng.random(50) < 0.6
    b = np.where(rng.random(50) < 0.7, a, ~a)
    assert cohen_kappa(a, b) == pytest.approx(sklearn_metrics.cohen_kappa_score(a, b))


@pytest.mark.parametrize(("a", "b"), [([1], [1]), ([], []), ([1, 1, 1], [1, 1, 1]), ([0, 0], [0, 0])])
def test_cohen_kappa_undefined_cases_give_none(a: list[int], b: list[int]) -> None:
    assert cohen_kappa(np.array(a), np.array(b)) is None
