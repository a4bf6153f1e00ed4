"""Publishing: difficulty terciles, the game's models folder, the report, and prediction tables the server takes."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path

import numpy as np
import pytest

from classifiers.card import discover_models, read_card
from classifiers.pack import open_pack
from classifiers.progress import run_to_end
from classifiers.stats import mcnemar_exact
from tests.helpers.synthetic import make_synthetic_pack
from trainer.cli import main
from trainer.model_registry import ModelRegistry, record_training
from trainer.publish import PublishedModel, PublishReport, TierTest, render_text, tier_lines
from trainer.training import train_model

FAST = {"feature_size": 32}
MODELS = (
    ("p-logreg", "logreg", {"C": 0.001}),
    ("p-rf", "rf", {"n_estimators": 3, "max_depth": 2}),
    ("p-svm", "svm", {}),
)


def drive(work: Generator):
    return run_to_end(work)


def train(workspace: Path, pack, model_id: str, variant: str, params: dict) -> None:
    registry = ModelRegistry(workspace / "registry.db")
    try:
        work = train_model(
            "shallow", pack, workspace / "models", variant=variant, params={**FAST, **params}, model_id=model_id
        )
        drive(
            record_training(
                registry,
                work,
                model_id=model_id,
                family="shallow",
                variant=variant,
                pack_id=pack.id,
                models_dir=workspace / "models",
                config={},
            )
        )
    finally:
        registry.close()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ws")
    pack = make_synthetic_pack(root / "packs", pack_id="tiny", per_class=24)
    for model_id, variant, params in MODELS:
        train(root, pack, model_id, variant, params)
    return root


@pytest.fixture(scope="module")
def published(workspace, tmp_path_factory) -> tuple[Path, dict]:
    destination = tmp_path_factory.mktemp("dest")
    assert main(["--workspace", str(workspace), "--quiet", "publish", "--pack", "tiny", "--to", str(destination)]) == 0
    return destination, json.loads((destination / "reports" / "tiny.json").read_text())


def test_publish_ranks_the_models_into_terciles_in_the_game_folder(published, workspace):
    destination, report = published
    found, problems = discover_models(destination / "models")  # also checks each ONNX file against its card
    assert problems == []
    by_accuracy = sorted((card.test_accuracy, card.id) for _, card in found)
    levels = {card.id: card.difficulty for _, card in found}
    assert [levels[model_id] for _, model_id in by_accuracy] == ["easy", "medium", "hard"]
    for model_id, level in levels.items():  # the workspace and the registry agree with what ships
        assert read_card(workspace / "models" / model_id).difficulty == level
    assert [(m["id"], m["difficulty"]) for m in report["models"]] == [
        (model_id, levels[model_id]) for _, model_id in reversed(by_accuracy)
    ]
    for model in report["models"]:
        assert model["onnx_bytes"] == (destination / "models" / model["id"] / "model.onnx").stat().st_size
    text = (destination / "reports" / "tiny.txt").read_text()
    assert all(model_id in text for model_id, _, _ in MODELS) and "difficulty" in text


def test_the_report_tests_whether_adjacent_tiers_differ_on_the_test_split(published, workspace):
    destination, report = published
    levels = {m["id"]: m["difficulty"] for m in report["models"]}
    accuracy = {m["id"]: m["test_accuracy"] for m in report["models"]}
    tests = report["tier_tests"]
    assert [(t["lower_tier"], t["upper_tier"]) for t in tests] == [("easy", "medium"), ("medium", "hard")]
    n_test = len(open_pack(workspace / "packs" / "tiny").splits["test"])
    for t in tests:
        assert (levels[t["lower_model"]], levels[t["upper_model"]]) == (t["lower_tier"], t["upper_tier"])
        # paired on every test image, the accuracies are the cards' own
        assert t["n_images"] == n_test
        assert t["lower_accuracy"] == pytest.approx(accuracy[t["lower_model"]])
        assert t["upper_accuracy"] == pytest.approx(accuracy[t["upper_model"]])
        assert t["upper_accuracy"] - t["lower_accuracy"] == pytest.approx((t["b"] - t["c"]) / t["n_images"])
        assert t["p_value"] == pytest.approx(mcnemar_exact(t["b"], t["c"])) and t["significant"] == (
            t["p_value"] < 0.05
        )
    text = (destination / "reports" / "tiny.txt").read_text()
    assert "exact McNemar" in text and f"b={tests[0]['b']} c={tests[0]['c']}" in text
    assert text.count("do not differ significantly") == sum(not t["significant"] for t in tests)


def test_a_warning_names_adjacent_tiers_that_do_not_differ() -> None:
    report = PublishReport("p", "P", "dest", "now", 10, models=[_published("weak", 0.80), _published("strong", 0.81)])
    report.tier_tests = [TierTest("easy", "hard", "weak", "strong", 0.80, 0.81, 1500, 14, 2, 0.0042, True)]
    assert [warning for _, warning in tier_lines(report)] == [False, False]
    report.tier_tests[0] = TierTest("easy", "hard", "weak", "strong", 0.80, 0.81, 1500, 30, 18, 0.11, False)
    lines = tier_lines(report)
    assert "b=30 c=18, p=0.11" in lines[1][0]
    assert lines[-1] == (
        "easy and hard do not differ significantly on the test split (p=0.11 >= 0.05): players meet the same "
        "strength under two names. Train models further apart, or evaluate on more test images.",
        True,
    )
    assert "warning: easy and hard do not differ significantly" in render_text(report)


def _published(model_id: str, accuracy: float) -> PublishedModel:
    return PublishedModel(model_id, model_id, "shallow", "svm", accuracy, None, None, 1000, "", "", "")


def _server_settings(database: Path):
    class ServerSettings:
        def resolved_database_url(self) -> str:
            return f"sqlite:///{database}"

    return ServerSettings()


def test_prediction_tables_are_the_models_answers_and_the_server_imports_the_models(published, workspace, tmp_path):
    pytest.importorskip("sqlalchemy")
    from classifiers.batch_prediction import compute_prediction_table
    from classifiers.pack import open_pack
    from game_rules.prediction_table import PredictionTable
    from sync_server.admin import run_import

    destination, report = published
    pack = open_pack(workspace / "packs" / "tiny")
    ranked = [entry.sha256 for entry in pack.splits["ranked"]]
    assert report["ranked_images"] == len(ranked) == 8
    model_dirs = [destination / "models" / m["id"] for m in report["models"]]
    tables = [Path(model["predictions"]) for model in report["models"]]
    for path, model_dir in zip(tables, model_dirs, strict=True):
        table = PredictionTable.parse(path.read_text(encoding="utf-8"))
        assert table.model_id == model_dir.name and sorted(table.predictions) == sorted(ranked)
        expected = drive(compute_prediction_table(model_dir, read_card(model_dir), pack, sorted(ranked)))
        assert table == expected

    # The server imports the published ranked set and models (it runs the models on served variants itself).
    labels = Path(report["ranked_labels"])
    imported = run_import(_server_settings(tmp_path / "server.db"), pack.root, labels, model_dirs)
    assert imported.images == 8
    assert dict(imported.models) == {m["id"]: m["difficulty"] for m in report["models"]}


def test_republishing_takes_superseded_models_out(published, workspace, tmp_path):
    destination, _ = published
    pack_dir = workspace / "packs" / "tiny"
    from classifiers.pack import open_pack

    train(workspace, open_pack(pack_dir), "p-logreg-2", "logreg", {"C": 1.0})
    code = main(
        ["--workspace", str(workspace), "--quiet", "publish", "--pack", "tiny", "--to", str(destination), "--json"]
    )
    assert code == 0
    report = json.loads((destination / "reports" / "tiny.json").read_text())
    assert report["removed"] == ["p-logreg"]
    assert sorted(m["id"] for m in report["models"]) == ["p-logreg-2", "p-rf", "p-svm"]
    assert not (destination / "models" / "p-logreg").exists()
    assert not (destination / "predictions" / "tiny" / "p-logreg.json").exists()


def test_a_model_the_registry_does_not_know_is_kept_and_ranked_with_the_others(published, workspace):
    from classifiers.difficulty import assign_difficulties
    from classifiers.pack import open_pack

    destination, _ = published
    drive(
        train_model(
            "shallow",
            open_pack(workspace / "packs" / "tiny"),
            destination / "models",
            variant="rf",
            params={**FAST, "n_estimators": 2, "max_depth": 1},
            model_id="foreign",
            reassign=False,
        )
    )
    assert main(["--workspace", str(workspace), "--quiet", "publish", "--pack", "tiny", "--to", str(destination)]) == 0
    report = json.loads((destination / "reports" / "tiny.json").read_text())
    assert [m["id"] for m in report["models"] if m["kept"]] == ["foreign"] and report["removed"] == []
    found, _ = discover_models(destination / "models")
    assert len(found) == 4 == len(report["models"])
    assert {card.id: card.difficulty for _, card in found} == assign_difficulties(card for _, card in found)
    assert (destination / "predictions" / "tiny" / "foreign.json").is_file()


def test_publishing_a_pack_without_models_says_what_to_do(workspace, tmp_path, capsys):
    make_synthetic_pack(workspace / "packs", pack_id="empty", per_class=12)
    code = main(["--workspace", str(workspace), "publish", "--pack", "empty", "--to", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "No trained model of pack 'empty'" in err and "eyevsai-train pipeline" in err
    assert not (tmp_path / "models").exists()


@pytest.fixture(scope="module")
def chance_workspace(tmp_path_factory) -> Path:
    """A workspace with a good model and one whose test accuracy is no better than guessing ("p-bad")."""
    from classifiers.card import write_card
    from classifiers.metrics import classification_metrics

    root = tmp_path_factory.mktemp("chance")
    pack = make_synthetic_pack(root / "packs", pack_id="tiny", per_class=24)
    train(root, pack, "p-good", "svm", {})
    train(root, pack, "p-bad", "rf", {"n_estimators": 1, "max_depth": 1})
    _, truth = pack.labelled("test")
    always_first = np.tile(np.eye(len(pack.classes))[0], (len(truth), 1))  # what guessing one class scores
    card = read_card(root / "models" / "p-bad")
    card.metrics = classification_metrics(truth, always_first, list(pack.classes))
    write_card(card, root / "models" / "p-bad")
    registry = ModelRegistry(root / "registry.db")
    registry.finish(card, root / "models" / "p-bad")
    registry.close()
    return root


def publish_to(capsys, workspace: Path, destination: Path, *args: str) -> tuple[int, dict | None, str]:
    code = main(["--workspace", str(workspace), "publish", "--pack", "tiny", "--to", str(destination), *args])
    err = capsys.readouterr().err
    report_file = destination / "reports" / "tiny.json"
    return code, json.loads(report_file.read_text()) if report_file.is_file() else None, err


def test_a_model_at_chance_is_refused_and_named_unless_allowed(chance_workspace, tmp_path, capsys):
    code, report, err = publish_to(capsys, chance_workspace, tmp_path / "a")
    assert code == 0, err
    assert [m["id"] for m in report["models"]] == ["p-good"]
    assert [r["id"] for r in report["refused"]] == ["p-bad"] and "at chance (" in report["refused"][0]["reason"]
    assert "not published: p-bad is at chance" in " ".join(err.split()) and "--allow-chance" in err
    assert not (tmp_path / "a" / "models" / "p-bad").exists()
    assert "not published: p-bad" in (tmp_path / "a" / "reports" / "tiny.txt").read_text()

    code, report, err = publish_to(capsys, chance_workspace, tmp_path / "a", "--allow-chance")
    assert code == 0, err
    assert {m["id"]: m["at_chance"] for m in report["models"]} == {"p-good": False, "p-bad": True}
    assert report["refused"] == [] and (tmp_path / "a" / "models" / "p-bad").is_dir()


def test_publish_takes_only_the_chosen_models_and_removes_the_others(chance_workspace, tmp_path, capsys):
    destination = tmp_path / "b"
    assert publish_to(capsys, chance_workspace, destination, "--allow-chance")[0] == 0
    code, report, err = publish_to(capsys, chance_workspace, destination, "--models", "p-good")
    assert code == 0, err
    assert [m["id"] for m in report["models"]] == ["p-good"] and report["not_chosen"] == ["p-bad"]
    assert report["removed"] == ["p-bad"] and not (destination / "models" / "p-bad").exists()
    code, report, _ = publish_to(capsys, chance_workspace, destination, "--models", "p-bad,p-good", "--allow-chance")
    assert code == 0 and sorted(m["id"] for m in report["models"]) == ["p-bad", "p-good"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--models", "p-good,nosuch"], "--models nosuch: not an active model of pack 'tiny'"),
        (["--models", "p-bad"], "Nothing of pack 'tiny' to publish: p-bad is at chance ("),
    ],
)
def test_a_choice_that_publishes_nothing_is_one_error_line(chance_workspace, tmp_path, capsys, args, fragment):
    code, report, err = publish_to(capsys, chance_workspace, tmp_path / "c", *args)
    assert code == 2 and report is None
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in " ".join(err.split())
    assert not (tmp_path / "c" / "models").exists()
