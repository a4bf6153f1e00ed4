"""The contract every registered classifier family keeps (docs/architecture.md §2, the family registry).

fit on a tiny synthetic pack → export ONNX → parity against the framework → model card round trip → predict
through the game's runtime, with test accuracy well above chance. A new family is picked up automatically; give
it a mark in FAMILY_MARKS and fast hyperparameters in FAST_PARAMS.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifiers.card import ONNX_FILE, ModelCard, file_sha256, read_card, write_card
from classifiers.errors import ConfigError, ParityError
from classifiers.families.base import load_split_images
from classifiers.features import FeatureParams, feature_dim
from classifiers.pack import Pack
from classifiers.parity import DEFAULT_TOLERANCE, check_parity
from classifiers.progress import Progress, run_to_end
from classifiers.registry import FamilyInfo, get_family, list_families
from classifiers.runtime import OnnxClassifier
from tests.helpers.synthetic import make_synthetic_pack
from trainer.training import train_model

FAMILY_MARKS: dict[str, list[pytest.MarkDecorator]] = {
    "deep_v1": [pytest.mark.torch],
    "deep_v2": [pytest.mark.torch],
    "transfer": [pytest.mark.tensorflow],
    "embedding": [pytest.mark.tensorflow],
}
# Keep every case to about a second on two CPU cores: tiny inputs, few trees/epochs.
FAST_PARAMS: dict[str, dict[str, Any]] = {
    "shallow": {"feature_size": 32, "n_estimators": 20},
    "deep_v1": {
        "epochs": 6,
        "min_steps": 0,
        "batch_size": 16,
        "image_size": 16,
        "width": 8,
        "blocks": 2,
        "workers": 0,
        "device": "cpu",
        "patience": 0,
    },
    "deep_v2": {
        "epochs": 6,
        "min_steps": 0,
        "batch_size": 16,
        "image_size": 16,
        "width": 8,
        "stages": 2,
        "workers": 0,
        "device": "cpu",
        "patience": 0,
        "mixup_prob": 0.3,
        "erase_prob": 0.1,
    },
    "embedding": {"image_size": 64},  # the feature graph is converted once per size, into the user cache
    # pretrained (offline, from the weights package), the backbone's first 3 stages, at its smallest input size
    "transfer": {
        "weights": "imagenet",
        "image_size": 32,
        "feature_layer": "block3b_add",
        "freeze_epochs": 4,
        "fine_tune_epochs": 2,
        "fine_tune_layers": 4,
        "batch_size": 8,
        "lr": 1e-2,
        "fine_tune_lr": 1e-3,
        "patience": 0,
    },
}
# Families whose every variant is too slow for the suite (a ResNet50 export alone takes a minute) or needs a
# download run the fit → export contract on these variants; their own tests build the others.
CONTRACT_VARIANTS: dict[str, tuple[str, ...]] = {"transfer": ("efficientnet_lite0",)}
# A value each family must accept in its constructor (stored unchanged) and reject in fit.
INVALID_PARAMS: dict[str, dict[str, Any]] = {
    "shallow": {"C": -1.0},
    "deep_v1": {"dropout": 1.5},
    "deep_v2": {"label_smoothing": 1.0},
    "transfer": {"dropout": 1.5},
    "embedding": {"C": -1.0},
}
MIN_ACCURACY = 0.7  # four classes: chance is 0.25


def _family_cases(all_variants: bool) -> list[Any]:
    cases = []
    for info in list_families():
        variants = CONTRACT_VARIANTS.get(info.name, info.variants) if all_variants else info.variants[:1]
        marks = FAMILY_MARKS.get(info.name, [])
        cases += [pytest.param(info.name, variant, marks=marks, id=f"{info.name}-{variant}") for variant in variants]
    return cases


def _available(family: str) -> FamilyInfo:
    info = get_family(family)
    missing = info.missing_modules()
    if missing:
        pytest.skip(f"family {family!r} needs {', '.join(missing)} (pip extra '{info.extra}')")
    return info


def _drive(generator: Generator[Any, None, Any]) -> tuple[list[Any], Any]:
    events: list[Any] = []
    return events, run_to_end(generator, events.append)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    return make_synthetic_pack(tmp_path_factory.mktemp("packs"), per_class=25)


@pytest.fixture(scope="module")
def test_split(pack: Pack) -> tuple[list[np.ndarray], np.ndarray]:
    return load_split_images(pack, "test")


@pytest.mark.parametrize(("family", "variant"), _family_cases(all_variants=True))
def test_fit_export_parity_card_and_runtime(family: str, variant: str, pack: Pack, test_split, tmp_path: Path) -> None:
    info = _available(family)
    params = FAST_PARAMS.get(family, {})
    estimator = info.create(variant, **params)

    # Hyperparameters are stored unchanged; nothing is learned before fit.
    stored = estimator.get_params()
    assert stored["variant"] == variant
    assert {key: stored[key] for key in params} == params
    assert not hasattr(estimator, "classes_")

    events, _ = _drive(estimator.fit(pack))
    assert events and all(isinstance(event, Progress) for event in events)
    assert estimator.classes_ == pack.classes

    # Export.
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    opset = estimator.export_onnx(model_dir / ONNX_FILE)
    assert isinstance(opset, int) and opset > 0
    spec = estimator.input_spec()

    # Model card round trip.
    card = ModelCard(
        id=f"contract-{family}-{variant}",
        title="contract",
        family=info.name,
        variant=variant,
        pack_id=pack.id,
        classes=list(estimator.classes_),
        input=spec,
        onnx_sha256=file_sha256(model_dir / ONNX_FILE),
        opset=opset,
        training={"params": estimator.get_params()},
    )
    write_card(card, model_dir)
    assert read_card(model_dir) == card

    # The game's runtime reads the card and the graph it describes.
    classifier = OnnxClassifier(model_dir, device="cpu")
    graph_input = classifier.session.get_inputs()[0]
    if spec.kind == "image":
        assert graph_input.type == "tensor(uint8)"
        assert list(graph_input.shape[1:]) == [spec.height, spec.width, spec.channels]
    else:
        assert graph_input.shape[-1] == feature_dim(FeatureParams.from_card(spec.extractor))
    assert "probabilities" in [output.name for output in classifier.session.get_outputs()]

    # Parity: onnxruntime reproduces the framework's probabilities.
    images, labels = test_split
    reference = estimator.predict_proba(images)
    exported = classifier.predict_batch(images)
    assert reference.shape == exported.shape == (len(images), len(pack.classes))
    assert float(np.max(np.abs(reference - exported))) <= DEFAULT_TOLERANCE
    np.testing.assert_array_equal(reference.argmax(1), exported.argmax(1))
    np.testing.assert_allclose(exported.sum(1), 1.0, atol=1e-4)

    # And the model learned something.
    accuracy = float((exported.argmax(1) == labels).mean())
    assert accuracy >= MIN_ACCURACY, f"{family}/{variant} test accuracy {accuracy:.2f}"
    single = classifier.predict(images[0])
    assert list(single) == pack.classes


@pytest.mark.parametrize(("family", "variant"), _family_cases(all_variants=False))
def test_train_model_registers_a_playable_model(
    family: str, variant: str, pack: Pack, test_split, tmp_path: Path
) -> None:
    info = _available(family)
    models_dir = tmp_path / "models"
    events, result = _drive(
        train_model(
            info.name, pack, models_dir, variant=variant, params=FAST_PARAMS.get(family, {}), model_id="trained"
        )
    )
    assert {event.stage for event in events} >= {"export", "evaluate"}
    assert result.model_dir == models_dir / "trained"
    assert sorted(p.name for p in models_dir.iterdir()) == ["trained"]  # no .partial left behind
    assert result.parity.max_abs_diff <= DEFAULT_TOLERANCE
    assert result.parity.argmax_agreement == 1.0

    card = read_card(result.model_dir)
    assert card == result.card
    assert card.difficulty == "medium"  # the only model of its pack
    assert card.metrics["n_test"] == len(test_split[1])
    assert card.test_accuracy >= MIN_ACCURACY

    images, labels = test_split
    probs = OnnxClassifier(result.model_dir, device="cpu").predict_batch(images)
    assert float((probs.argmax(1) == labels).mean()) == pytest.approx(card.test_accuracy, abs=1e-4)


@pytest.mark.parametrize(
    "family",
    [pytest.param(info.name, marks=FAMILY_MARKS.get(info.name, [])) for info in list_families()],
)
def test_hyperparameters_are_validated_in_fit(family: str, pack: Pack) -> None:
    info = _available(family)
    if family not in INVALID_PARAMS:
        pytest.skip(f"no invalid hyperparameter listed for {family!r} in INVALID_PARAMS")
    estimator = info.create(None, **FAST_PARAMS.get(family, {}), **INVALID_PARAMS[family])
    with pytest.raises(ConfigError) as error:
        _drive(estimator.fit(pack))
    assert any(name in str(error.value) for name in INVALID_PARAMS[family])


def test_every_family_has_a_mark_entry_when_it_needs_a_heavy_framework() -> None:
    for info in list_families():
        if {"torch", "tensorflow"} & set(info.requires):
            assert info.name in FAMILY_MARKS, f"add {info.name!r} to FAMILY_MARKS"


def test_parity_check_accepts_tiny_differences() -> None:
    reference = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    report = check_parity(reference, reference + 5e-5)
    assert report.max_abs_diff == pytest.approx(5e-5)
    assert report.argmax_agreement == 1.0
    assert report.as_dict()["n"] == 2


@pytest.mark.parametrize(
    ("exported", "message"),
    [
        ([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8002]], "max abs diff 2.00e-04"),
        ([[0.40, 0.41, 0.19], [0.1, 0.1, 0.8]], "1 of 2 top-1 answers differ"),
        ([[0.7, 0.3], [0.2, 0.8]], "shape"),
    ],
    ids=["too-far", "argmax", "shape"],
)
def test_parity_check_rejects_a_bad_export(exported: list[list[float]], message: str) -> None:
    reference = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    with pytest.raises(ParityError, match=message):
        check_parity(reference, np.array(exported))
