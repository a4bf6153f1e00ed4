"""Per-image test predictions behind the confusion matrix, and the comparison of two model cards."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.card import read_card
from classifiers.errors import ModelCardError
from classifiers.pack import open_pack
from classifiers.progress import run_to_end
from tests.helpers.synthetic import make_synthetic_pack
from tests.trainer.conftest import drive
from trainer.comparison import compare_cards
from trainer.predictions import predict_test_split
from trainer.workspace import Workspace


def test_predictions_reproduce_the_cards_confusion_matrix_cell_by_cell(trained_template) -> None:
    workspace = Workspace(trained_template)
    pack = open_pack(workspace.packs_dir / "stripes")
    model_dir = workspace.models_dir / "stripes-rf"
    card = read_card(model_dir)
    events = []
    predictions = run_to_end(predict_test_split(model_dir, pack, batch=5), events.append)
    assert events[-1].done == events[-1].total == len(pack.splits["test"])
    assert len(predictions.items) == len(pack.splits["test"])
    assert predictions.confusion().tolist() == card.metrics["confusion"]
    assert predictions.accuracy() == pytest.approx(card.metrics["test_accuracy"], abs=1e-4)
    for truth in range(len(pack.classes)):
        for guess in range(len(pack.classes)):
            cell = predictions.cell(truth, guess)
            assert len(cell) == card.metrics["confusion"][truth][guess]
            assert all(p.truth == truth and p.predicted == guess for p in cell)
            assert [p.confidence for p in cell] == sorted((p.confidence for p in cell), reverse=True)
            assert all(0 < p.confidence <= 1 for p in cell)


def test_a_model_of_other_classes_is_refused(trained_template, tmp_path) -> None:
    other = make_synthetic_pack(
        tmp_path, pack_id="three", per_class=10, classes=["red_horizontal", "green_vertical", "blue_diagonal"]
    )
    with pytest.raises(ModelCardError, match="Open the model with the pack it was trained on"):
        drive(predict_test_split(Workspace(trained_template).models_dir / "stripes-logreg", other))


def test_comparison_rows(trained_template) -> None:
    models = Workspace(trained_template).models_dir
    a, b = read_card(models / "stripes-logreg"), read_card(models / "stripes-rf")
    rows = {(r.section, r.label): r for r in compare_cards(a, b)}
    accuracy = rows[("metrics", "test accuracy")]
    assert accuracy.delta == pytest.approx(b.metrics["test_accuracy"] - a.metrics["test_accuracy"])
    assert accuracy.a == f"{a.metrics['test_accuracy']:.1%}"
    per_class = [r for r in rows.values() if r.section == "per-class accuracy"]
    assert [r.label for r in per_class] == a.classes
    differing = {r.label for r in rows.values() if r.section == "settings that differ"}
    assert {"variant", "n_estimators", "max_depth"} <= differing and "feature_size" not in differing
    assert rows[("model", "family / variant")].b == "shallow / rf"
    assert np.isfinite(rows[("metrics", "training seconds")].delta)
