"""`eyevsai-train models list|show|remove|cleanup`, `list` and `install FAMILY`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from classifiers.errors import ConfigError
from classifiers.pack import open_pack
from classifiers.progress import run_to_end
from tests.helpers.synthetic import make_synthetic_pack
from trainer.cli import main
from trainer.extras import extra_requirements, find_constraints, pip_command
from trainer.model_registry import record_training
from trainer.pipeline.lock import workspace_lock
from trainer.training import train_model
from trainer.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
TRAIN = ["--quiet", "train", "shallow", "--pack", "tiny", "--feature-size", "32"]


def run(capsys, workspace: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(workspace), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """Two logreg runs (the first superseded), one rf, one failed svm."""
    root = tmp_path_factory.mktemp("ws")
    make_synthetic_pack(root / "packs", pack_id="tiny", per_class=20)
    for model_id, extra in (
        ("old", ["--algorithm", "logreg"]),
        ("new", ["--algorithm", "logreg", "--C", "0.5"]),
        ("forest", ["--algorithm", "rf", "--n-estimators", "5"]),
    ):
        assert main(["--workspace", str(root), *TRAIN, *extra, "--id", model_id]) == 0
    # the CLI refuses C=-1 before any work, so the failed run is made through the library, as a GUI run fails
    assert main(["--workspace", str(root), *TRAIN, "--algorithm", "svm", "--C", "-1", "--id", "bad"]) == 2
    workspace, params = Workspace(root), {"feature_size": 32, "C": -1.0}
    registry = workspace.registry()
    work = train_model(
        "shallow", open_pack(root / "packs" / "tiny"), workspace.models_dir, variant="svm", params=params
    )
    with pytest.raises(ConfigError):
        run_to_end(
            record_training(
                registry,
                work,
                model_id="bad",
                family="shallow",
                variant="svm",
                pack_id="tiny",
                models_dir=workspace.models_dir,
                config={"params": params},
            )
        )
    registry.close()
    return root


def test_models_list_shows_what_plays_and_all_shows_every_run(capsys, workspace):
    code, out, _ = run(capsys, workspace, "models", "list", "--json", "--no-bundled")
    assert code == 0
    assert sorted((r["id"], r["status"], r["version"]) for r in json.loads(out)) == [
        ("forest", "done", 1),
        ("new", "done", 2),
    ]
    code, out, _ = run(capsys, workspace, "models", "--all", "--json", "--no-bundled")
    assert {r["id"]: r["status"] for r in json.loads(out)} == {
        "old": "superseded",
        "new": "done",
        "forest": "done",
        "bad": "failed",
    }
    code, out, _ = run(capsys, workspace, "models", "list", "--all", "--no-bundled")
    row = next(line for line in out.splitlines() if "│ old " in line)
    assert "superseded" in row and "shallow/logreg" in row


def test_models_show_joins_the_registry_and_the_card(capsys, workspace):
    code, out, _ = run(capsys, workspace, "models", "show", "new", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "done" and shown["config"]["params"]["C"] == 0.5
    assert shown["card"]["onnx_sha256"] == shown["onnx_sha256"] and shown["difficulty"] in ("easy", "hard")
    code, out, _ = run(capsys, workspace, "models", "show", "bad")
    assert code == 0 and "failed: C must be a number from 0.0001 to 10000" in out
    code, _, err = run(capsys, workspace, "models", "show", "nope")
    assert code == 2 and "No model 'nope' in the registry" in err


def test_pipeline_dry_run_plans_and_skips_what_a_finished_model_covers(capsys, workspace):
    code, out, _ = run(capsys, workspace, "pipeline", "--packs", "tiny", "--families", "shallow", "--dry-run", "--json")
    plan = json.loads(out)
    assert code == 0 and plan["counts"] == {"jobs": 3, "to_run": 1, "skipped": 2}
    assert {row["variant"]: (row["run"], row["reason"]) for row in plan["plan"]} == {
        "svm": (True, "to run"),
        "rf": (False, "done: forest"),
        "logreg": (False, "done: new"),
    }
    code, out, _ = run(
        capsys, workspace, "pipeline", "--packs", "tiny", "--families", "shallow/rf", "--tune", "--dry-run", "--json"
    )
    assert json.loads(out)["plan"][0]["run"] is True  # a tuned job needs a tuned model


def test_pipeline_refuses_a_pack_without_training_images(capsys, tmp_path):
    code, _, err = run(capsys, tmp_path, "pipeline", "--packs", "fashion-mnist", "--families", "shallow/logreg")
    assert code == 2 and "has no training images" in err  # the bundled game pack


def test_cleanup_waits_for_a_running_pipeline(capsys, workspace):
    with workspace_lock(workspace):
        code, _, err = run(capsys, workspace, "models", "cleanup")
    assert code == 2 and "A pipeline is already running" in err


def test_models_cleanup_dry_run_lists_and_cleanup_removes(capsys, workspace):
    (workspace / "models" / "stray.partial").mkdir()
    code, out, _ = run(capsys, workspace, "models", "cleanup", "--dry-run", "--json")
    planned = json.loads(out)
    assert code == 0 and planned["dry_run"] is True
    assert sorted(str(i["model_id"]) for i in planned["items"]) == ["None", "bad", "old"]
    assert (workspace / "models" / "old").exists() and (workspace / "models" / "stray.partial").exists()
    code, out, _ = run(capsys, workspace, "models", "cleanup")
    assert code == 0 and "Removed 3 item(s)" in out
    assert not (workspace / "models" / "old").exists() and not (workspace / "models" / "stray.partial").exists()
    code, out, _ = run(capsys, workspace, "models", "--all", "--json", "--no-bundled")
    assert sorted(r["id"] for r in json.loads(out)) == ["forest", "new"]


def test_models_tiers_reranks_a_folder_and_tests_adjacent_tiers_on_the_test_split(capsys, workspace):
    code, out, _ = run(capsys, workspace, "models", "tiers", "--pack", "tiny", "--json")
    assert code == 0
    result = json.loads(out)
    assert {"new", "forest"} <= set(result["levels"]) and set(result["levels"].values()) <= {"easy", "medium", "hard"}
    n_test = len(open_pack(workspace / "packs" / "tiny").splits["test"])
    assert result["tier_tests"], "two models in two tiers: one boundary to test"
    for test in result["tier_tests"]:
        assert test["n_images"] == n_test and 0.0 <= test["p_value"] <= 1.0
        assert test["b"] + test["c"] <= n_test and test["significant"] == (test["p_value"] < 0.05)
    code, out, _ = run(capsys, workspace, "models", "tiers", "--pack", "tiny")
    assert code == 0 and "Adjacent tiers on the test split" in out
    code, _, err = run(capsys, workspace, "models", "tiers", "--pack", "tiny", "--models-dir", str(workspace / "none"))
    assert code == 2 and "No model of pack 'tiny'" in err


def test_models_remove_deletes_the_model_and_reranks_the_pack(capsys, workspace):
    code, out, _ = run(capsys, workspace, "models", "remove", "forest")
    assert code == 0 and str(workspace / "models" / "forest") in out
    assert not (workspace / "models" / "forest").exists()
    code, out, _ = run(capsys, workspace, "models", "list", "--json", "--no-bundled")
    assert [(r["id"], r["difficulty"]) for r in json.loads(out)] == [("new", "medium")]  # alone: medium


def test_list_says_how_to_install_a_missing_family(capsys, tmp_path):
    code, out, _ = run(capsys, tmp_path, "list", "--json")
    rows = {row["family"]: row for row in json.loads(out)}
    assert code == 0 and rows["shallow"]["available"] and rows["shallow"]["install"] is None
    assert rows["shallow"]["extra"] == "shallow" and rows["deep_v1"]["extra"] == "torch"


def test_install_an_available_family_does_nothing(capsys, tmp_path):
    code, out, _ = run(capsys, tmp_path, "install", "shallow")
    assert code == 0 and "already available" in out
    code, _, err = run(capsys, tmp_path, "install", "boosting")
    assert code == 2 and "Unknown family 'boosting'" in err


def test_extras_expand_nested_extras_and_use_the_project_constraints():
    declared = [
        'scikit-learn>=1.5; extra == "shallow"',
        'torch==2.13.0; extra == "torch"',
        'eyevsai[shallow,torch]; extra == "train"',
        'optuna>=4; extra == "train"',
        "numpy>=2",
    ]
    assert extra_requirements("train", declared) == ["optuna>=4", "scikit-learn>=1.5", "torch==2.13.0"]
    with pytest.raises(ConfigError, match="no extra 'gpu2'"):
        extra_requirements("gpu2", declared)
    assert "scikit-learn>=1.5" in extra_requirements("shallow")  # from the installed project's metadata
    assert find_constraints() == REPO / "constraints.txt"
    with pytest.raises(ConfigError, match="does not exist"):
        find_constraints("/nonexistent/pins.txt")
    assert pip_command(["onnx>=1.16"], REPO / "constraints.txt", dry_run=True) == [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-c",
        str(REPO / "constraints.txt"),
        "--dry-run",
        "onnx>=1.16",
    ]


@pytest.mark.slow
def test_install_force_dry_run_lets_pip_resolve_the_pinned_extra(capsys, tmp_path):
    code, out, _ = run(capsys, tmp_path, "install", "shallow", "--force", "--dry-run")
    assert code == 0 and "-c " + str(REPO / "constraints.txt") in out
