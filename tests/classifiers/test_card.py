"""Model cards: the JSON that travels with every ONNX file, and the errors a user sees when one is wrong."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from classifiers.card import (
    CARD_FILE,
    ONNX_FILE,
    InputSpec,
    ModelCard,
    discover_models,
    file_sha256,
    read_card,
    write_card,
)
from classifiers.errors import ModelCardError
from classifiers.features import FeatureParams


def _features_card(model_id: str = "m-shallow", **changes: object) -> ModelCard:
    card = ModelCard(
        id=model_id,
        title="Shallow logreg on stripes — ünïcode",
        family="shallow",
        variant="logreg",
        pack_id="synthetic",
        classes=["cat", "dog", "frog"],
        input=InputSpec(kind="features", height=32, width=32, extractor=FeatureParams(size=32).to_card()),
        metrics={
            "test_accuracy": 0.91,
            "macro_f1": 0.9,
            "per_class": {"cat": 1.0, "dog": 0.8, "frog": 0.9},
            "confusion": [[3, 0, 0], [1, 4, 0], [0, 0, 2]],
        },
        difficulty="hard",
        opset=17,
        created="2024-01-01T00:00:00+00:00",
        trainer_version="0.1.0",
        training={"params": {"C": 1.0, "pca_components": None}},
    )
    for key, value in changes.items():
        setattr(card, key, value)
    return card


def _image_card(model_id: str = "m-image") -> ModelCard:
    return ModelCard(
        id=model_id,
        title="CNN",
        family="deep_v1",
        variant="small",
        pack_id="synthetic",
        classes=["a", "b"],
        input=InputSpec(kind="image", height=48, width=40),
    )


def _model_dir(root: Path, card: ModelCard, onnx: bytes = b"fake onnx bytes") -> Path:
    model_dir = root / card.id
    model_dir.mkdir(parents=True)
    (model_dir / ONNX_FILE).write_bytes(onnx)
    card.onnx_sha256 = file_sha256(model_dir / ONNX_FILE)
    write_card(card, model_dir)
    return model_dir


def _card_obj(model_dir: Path) -> dict:
    return json.loads((model_dir / CARD_FILE).read_text(encoding="utf-8"))


def _rewrite(model_dir: Path, obj: dict) -> None:
    (model_dir / CARD_FILE).write_text(json.dumps(obj), encoding="utf-8")


@pytest.mark.parametrize("make", [_features_card, _image_card], ids=["features", "image"])
def test_write_then_read_gives_an_equal_card(tmp_path: Path, make) -> None:
    card = make()
    model_dir = _model_dir(tmp_path, card)
    again = read_card(model_dir)
    assert again == card
    assert again.to_json_obj() == card.to_json_obj()


def test_card_file_is_readable_json_with_the_documented_fields(tmp_path: Path) -> None:
    model_dir = _model_dir(tmp_path, _image_card())
    obj = _card_obj(model_dir)
    for key in (
        "id",
        "title",
        "family",
        "variant",
        "pack_id",
        "classes",
        "input",
        "metrics",
        "difficulty",
        "onnx_sha256",
        "opset",
        "created",
        "trainer_version",
        "training",
    ):
        assert key in obj
    assert obj["input"] == {
        "kind": "image",
        "height": 48,
        "width": 40,
        "channels": 3,
        "layout": "NHWC",
        "dtype": "uint8",
    }
    assert not (model_dir / "model.json.tmp").exists()


def test_non_ascii_is_stored_as_is(tmp_path: Path) -> None:
    model_dir = _model_dir(tmp_path, _features_card())
    assert "ünïcode" in (model_dir / CARD_FILE).read_text(encoding="utf-8")


def test_test_accuracy_property() -> None:
    assert _features_card().test_accuracy == pytest.approx(0.91)
    assert _image_card().test_accuracy is None


def test_write_card_refuses_an_invalid_card(tmp_path: Path) -> None:
    card = _image_card()
    card.difficulty = "impossible"
    with pytest.raises(ModelCardError, match="difficulty"):
        write_card(card, tmp_path)
    assert not (tmp_path / CARD_FILE).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"difficulty": "extreme"}, "difficulty"),
        ({"classes": ["only"]}, "classes"),
        ({"classes": ["a", "a"]}, "classes"),
        ({"input": {"kind": "video", "height": 4, "width": 4}}, "input.kind"),
        ({"input": {"kind": "image", "height": 4, "width": 4, "layout": "NCHW"}}, "NHWC"),
        ({"input": {"kind": "features", "height": 4, "width": 4}}, "extractor"),
        ({"input": {"kind": "image", "height": 0, "width": 4}}, "input size"),
        ({"input": {"kind": "image"}}, "height"),
        ({"input": {"kind": "image", "height": "tall", "width": 4}}, "height"),
        ({"input": {"kind": "image", "height": 4, "width": 4, "mean": [0.5]}}, "mean"),
        ({"input": None}, "input"),
        ({"metrics": [1, 2]}, "metrics"),
    ],
    ids=[
        "difficulty",
        "one-class",
        "duplicate-classes",
        "input-kind",
        "layout",
        "no-extractor",
        "zero-size",
        "image-without-size",
        "non-numeric-size",
        "unknown-input-field",
        "input-null",
        "metrics-list",
    ],
)
def test_invalid_card_is_a_model_card_error_naming_the_field(tmp_path: Path, change: dict, field: str) -> None:
    model_dir = _model_dir(tmp_path, _image_card())
    obj = _card_obj(model_dir)
    obj.update(change)
    _rewrite(model_dir, obj)
    with pytest.raises(ModelCardError, match=field) as info:
        read_card(model_dir)
    assert str(model_dir / CARD_FILE) in str(info.value)


@pytest.mark.parametrize("key", ["id", "family", "pack_id", "classes", "input"])
def test_missing_required_field_is_named(tmp_path: Path, key: str) -> None:
    model_dir = _model_dir(tmp_path, _image_card())
    obj = _card_obj(model_dir)
    del obj[key]
    _rewrite(model_dir, obj)
    with pytest.raises(ModelCardError, match=f"'{key}'"):
        read_card(model_dir)


def test_optional_fields_have_defaults(tmp_path: Path) -> None:
    model_dir = _model_dir(tmp_path, _image_card())
    obj = {k: v for k, v in _card_obj(model_dir).items() if k in ("id", "family", "pack_id", "classes", "input")}
    _rewrite(model_dir, obj)
    card = read_card(model_dir, check_onnx=False)
    assert card.title == card.id
    assert card.difficulty is None
    assert card.metrics == {}


def test_missing_card_and_malformed_json(tmp_path: Path) -> None:
    with pytest.raises(ModelCardError, match="No model card at"):
        read_card(tmp_path)
    (tmp_path / CARD_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(ModelCardError, match="not readable JSON"):
        read_card(tmp_path)


def test_onnx_hash_mismatch_is_detected(tmp_path: Path) -> None:
    model_dir = _model_dir(tmp_path, _features_card())
    (model_dir / ONNX_FILE).write_bytes(b"a different model")
    with pytest.raises(ModelCardError, match="does not match its card") as info:
        read_card(model_dir)
    assert str(model_dir / ONNX_FILE) in str(info.value)
    # Reading just the card (e.g. to list models) still works.
    assert read_card(model_dir, check_onnx=False).id == "m-shallow"


def test_missing_onnx_file_is_detected(tmp_path: Path) -> None:
    model_dir = _model_dir(tmp_path, _features_card())
    (model_dir / ONNX_FILE).unlink()
    with pytest.raises(ModelCardError, match="has no ONNX file beside it"):
        read_card(model_dir)


def test_file_sha256_matches_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # more than one read chunk
    (tmp_path / "blob").write_bytes(data)
    assert file_sha256(tmp_path / "blob") == hashlib.sha256(data).hexdigest()


def test_discover_models_skips_and_reports_a_broken_model(tmp_path: Path) -> None:
    _model_dir(tmp_path, _features_card("a-good"))
    _model_dir(tmp_path, _image_card("c-good"))
    broken = _model_dir(tmp_path, _image_card("b-broken"))
    (broken / ONNX_FILE).write_bytes(b"tampered")
    (tmp_path / "not-a-model").mkdir()
    models, problems = discover_models(tmp_path, tmp_path / "missing-root")
    assert [card.id for _, card in models] == ["a-good", "c-good"]
    assert models[0][0] == tmp_path / "a-good"
    assert len(problems) == 1
    assert "b-broken" in problems[0]


def test_discover_models_first_root_wins_on_id_clash(tmp_path: Path) -> None:
    first = _model_dir(tmp_path / "user", _image_card("same"))
    _model_dir(tmp_path / "bundled", _image_card("same"))
    models, problems = discover_models(tmp_path / "user", tmp_path / "bundled")
    assert problems == []
    assert [path for path, _ in models] == [first]


def test_a_written_card_keeps_no_path_or_database_url_of_the_training_machine(tmp_path: Path) -> None:
    training = {
        "params": {"C": 1.0, "soft_labels": "/home/ada/exports/human_labels.jsonl", "weights": "imagenet"},
        "backbone_weights": {"source": "C:\\Users\\ada\\weights\\lite0.npz", "licence": "Apache-2.0"},
        "tuning": {"storage": "postgresql://ada:secret@db.lan:5432/optuna", "study": "p.shallow"},
        "notes": ["~/cache/x.npz", "converted from a/b.pth", "https://example.org/weights.h5"],
    }
    model_dir = _model_dir(tmp_path, _features_card(training=training))
    text = (model_dir / CARD_FILE).read_text(encoding="utf-8")
    assert "ada" not in text and "secret" not in text
    written = json.loads(text)["training"]
    assert written["params"] == {"C": 1.0, "soft_labels": "human_labels.jsonl", "weights": "imagenet"}
    assert written["backbone_weights"]["source"] == "lite0.npz"
    assert written["tuning"] == {"storage": "postgresql:optuna", "study": "p.shallow"}
    # relative paths and public addresses are facts any machine can use
    assert written["notes"] == ["x.npz", "converted from a/b.pth", "https://example.org/weights.h5"]


def test_the_bundled_cards_still_load() -> None:
    bundled = Path(__file__).resolve().parents[2] / "assets" / "models"
    models, problems = discover_models(bundled)
    assert problems == [] and len(models) >= 3
    for _, card in models:  # written again, a bundled card loses the paths of the machine that trained it
        assert "/tmp/" not in json.dumps(card.to_json_obj())
