"""Training one model end to end: fit → ONNX → parity → test metrics → model card → difficulty."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Generator
from pathlib import Path

import numpy as np
import pytest

from classifiers.card import CARD_FILE, ONNX_FILE, file_sha256, read_card, write_card
from classifiers.errors import ConfigError, ParityError, UnknownFamilyError
from classifiers.families.base import load_split_images
from classifiers.families.shallow import ShallowClassifier
from classifiers.progress import Progress, run_to_end
from classifiers.runtime import OnnxClassifier
from tests.helpers.synthetic import make_synthetic_pack
from trainer.training import reassign_difficulties, train_model

FAST = {"feature_size": 32}  # the synthetic images are 48×48; smaller features keep each fit well under a second


def drive(work: Generator) -> tuple[list[Progress], object]:
    events: list[Progress] = []
    return events, run_to_end(work, events.append)


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return make_synthetic_pack(tmp_path_factory.mktemp("packs"), per_class=24)


@pytest.fixture(scope="module")
def trained(pack, tmp_path_factory):
    models_dir = tmp_path_factory.mktemp("models")
    events, result = drive(train_model("shallow", pack, models_dir, variant="logreg", params=FAST, model_id="m1"))
    return models_dir, events, result


def test_training_writes_onnx_and_card_into_the_model_folder(trained, pack):
    models_dir, _, result = trained
    assert result.model_dir == models_dir / "m1"
    assert (result.model_dir / ONNX_FILE).is_file() and (result.model_dir / CARD_FILE).is_file()
    card = read_card(result.model_dir)  # also checks the ONNX file against the card's hash
    assert (card.id, card.family, card.variant, card.pack_id) == ("m1", "shallow", "logreg", pack.id)
    assert card.classes == pack.classes
    assert card.training["params"]["feature_size"] == 32
    assert card.training["parity"]["max_abs_diff"] <= 1e-4
    assert sorted(p.name for p in models_dir.iterdir()) == ["m1"]  # no .partial folder left


def test_card_metrics_are_measured_on_the_test_split(trained, pack):
    metrics = read_card(trained[2].model_dir).metrics
    n_test = len(pack.splits["test"])
    assert metrics["n_test"] == n_test
    assert metrics["test_accuracy"] > 0.8
    assert set(metrics["per_class"]) == set(pack.classes)
    confusion = np.array(metrics["confusion"])
    assert confusion.shape == (4, 4) and confusion.sum() == n_test
    assert confusion.trace() / n_test == pytest.approx(metrics["test_accuracy"], abs=1e-4)
    assert list(confusion.sum(1)) == [Counter(e.label for e in pack.splits["test"])[c] for c in pack.classes]


def test_the_game_runtime_reproduces_the_card_accuracy(trained, pack):
    images, truth = load_split_images(pack, "test")
    probabilities = OnnxClassifier(trained[2].model_dir, device="cpu").predict_batch(images)
    accuracy = float((probabilities.argmax(1) == truth).mean())
    assert accuracy == pytest.approx(trained[2].card.metrics["test_accuracy"], abs=1e-4)


def test_training_reports_progress_for_every_stage(trained):
    stages = [event.stage for event in trained[1]]
    assert {"features", "fit", "export", "evaluate"} <= set(stages)
    assert stages.index("features") < stages.index("fit") < stages.index("export") < stages.index("evaluate")


def test_the_only_model_of_a_pack_is_medium(trained):
    assert trained[2].card.difficulty == "medium"
    assert read_card(trained[2].model_dir).difficulty == "medium"


def _copy_model(source: Path, models_dir: Path, model_id: str, accuracy: float, pack_id: str) -> None:
    target = models_dir / model_id
    shutil.copytree(source, target)
    card = read_card(target)
    card.id, card.pack_id, card.difficulty = model_id, pack_id, None
    card.metrics = {**card.metrics, "test_accuracy": accuracy}
    write_card(card, target)


def test_difficulties_are_terciles_of_test_accuracy(trained, tmp_path):
    source = trained[2].model_dir
    accuracies = {"a": 0.95, "b": 0.40, "c": 0.80, "d": 0.55, "e": 0.90, "f": 0.60}
    for model_id, accuracy in accuracies.items():
        _copy_model(source, tmp_path, model_id, accuracy, "pets")
    _copy_model(source, tmp_path, "other", 0.10, "cars")
    levels = reassign_difficulties(tmp_path, "pets")
    assert levels == {"b": "easy", "d": "easy", "f": "medium", "c": "medium", "e": "hard", "a": "hard"}
    assert {model_id: read_card(tmp_path / model_id).difficulty for model_id in accuracies} == levels
    assert read_card(tmp_path / "other").difficulty is None  # another pack's models are left alone


def test_rf_with_few_trees_and_a_default_id(pack, tmp_path):
    params = {**FAST, "n_estimators": 8, "max_depth": 6}
    _, result = drive(train_model("shallow", pack, tmp_path, variant="rf", params=params))
    assert result.model_dir.parent == tmp_path
    assert result.model_dir.name.startswith(f"{pack.id}-shallow-rf-")
    card = read_card(result.model_dir)
    assert card.training["params"]["n_estimators"] == 8 and card.training["params"]["max_depth"] == 6
    assert card.metrics["test_accuracy"] > 0.8


@pytest.fixture
def broken_export(monkeypatch):
    """Make the framework's probabilities disagree with the exported ONNX graph."""
    original = ShallowClassifier.predict_proba
    monkeypatch.setattr(ShallowClassifier, "predict_proba", lambda self, images: original(self, images)[:, ::-1])


def test_a_failed_parity_check_registers_nothing(pack, tmp_path, broken_export):
    with pytest.raises(ParityError, match="not registered"):
        drive(train_model("shallow", pack, tmp_path, variant="logreg", params=FAST, model_id="bad"))
    assert list(tmp_path.iterdir()) == []


def test_a_failed_retrain_keeps_the_previous_model(trained, pack, tmp_path, broken_export):
    shutil.copytree(trained[2].model_dir, tmp_path / "m1")
    before = file_sha256(tmp_path / "m1" / CARD_FILE), file_sha256(tmp_path / "m1" / ONNX_FILE)
    with pytest.raises(ParityError):
        drive(train_model("shallow", pack, tmp_path, variant="logreg", params=FAST, model_id="m1"))
    assert (file_sha256(tmp_path / "m1" / CARD_FILE), file_sha256(tmp_path / "m1" / ONNX_FILE)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m1"]


def test_bad_hyperparameters_fail_before_anything_is_written(pack, tmp_path):
    with pytest.raises(ConfigError, match="C must be a number from 0.0001 to 10000"):
        drive(train_model("shallow", pack, tmp_path, variant="logreg", params={"C": -1.0}, model_id="neg"))
    assert list(tmp_path.iterdir()) == []


def test_unknown_variant_and_family_list_the_choices(pack, tmp_path):
    with pytest.raises(ConfigError, match="logreg"):
        drive(train_model("shallow", pack, tmp_path, variant="boosting"))
    with pytest.raises(UnknownFamilyError, match="shallow"):
        drive(train_model("nope", pack, tmp_path))
    assert list(tmp_path.iterdir()) == []
