"""`eyevsai-train`: commands, their output, JSON mode, and one-line errors with documented exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifiers.card import read_card
from classifiers.errors import PackError
from classifiers.pack import open_pack
from tests.helpers.synthetic import CLASS_STYLES, synthetic_sources
from trainer.cli import main
from trainer.workspace import WORKSPACE_ENV, Workspace

REPO = Path(__file__).resolve().parents[2]
CLASSES = sorted(CLASS_STYLES)
# 20 images per class with the default fractions: 13 train, 2 val, 3 test, 2 ranked per class
TRAIN_ARGS = ["train", "shallow", "--pack", "x", "--algorithm", "logreg", "--feature-size", "32"]


def write_image_folder(root: Path, per_class: int = 20) -> Path:
    for source in synthetic_sources(per_class):
        path = root / source.origin
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source.data)
    return root


def run(capsys, workspace: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(workspace), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, fragment: str) -> None:
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert fragment in errors[0]
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def src(tmp_path_factory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("photos") / "pets")


@pytest.fixture(scope="module")
def trained_workspace(src, tmp_path_factory) -> Path:
    """A workspace holding pack 'x' (built from src) and model 'm' (logreg), both made through the CLI."""
    workspace = tmp_path_factory.mktemp("ws")
    assert main(["--workspace", str(workspace), "--quiet", "pack", "build", str(src), "--id", "x"]) == 0
    assert main(["--workspace", str(workspace), "--quiet", *TRAIN_ARGS, "--id", "m"]) == 0
    return workspace


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["pack", "build"],
        ["pack", "info"],
        ["pack", "export-game"],
        ["train", "shallow"],
        ["train", "deep-v1"],
        ["train", "deep-v2"],
        ["list"],
        ["models"],
        ["models", "list"],
        ["models", "show"],
        ["models", "remove"],
        ["models", "cleanup"],
        ["evaluate"],
        ["pipeline"],
        ["tune"],
        ["publish"],
        ["install"],
    ],
    ids=lambda c: " ".join(c) or "root",
)
def test_help_shows_an_example(capsys, tmp_path, command):
    code, out, _ = run(capsys, tmp_path, *command, "--help")
    assert code == 0
    example = " ".join(out.split("Example", 1)[1].split())  # the text after "Example", unwrapped
    assert example.startswith((": eyevsai-train", "s: eyevsai-train"))
    assert " ".join(["eyevsai-train", *command]) in example


def test_list_shows_the_shallow_family_available(capsys, tmp_path):
    code, out, _ = run(capsys, tmp_path, "list")
    assert code == 0
    line = next(line for line in out.splitlines() if "shallow" in line)
    assert "available" in line and "logreg" in line
    code, out, _ = run(capsys, tmp_path, "list", "--json")
    shallow = next(row for row in json.loads(out) if row["family"] == "shallow")
    assert shallow["available"] is True and shallow["variants"] == ["svm", "rf", "logreg"]


def test_pack_build_prints_the_split_table_and_warns_about_a_corrupt_image(capsys, tmp_path):
    source = write_image_folder(tmp_path / "pets")
    (source / "yellow_dots" / "broken.jpg").write_bytes(b"\xff\xd8\xff definitely not a jpeg")
    code, out, err = run(capsys, tmp_path / "ws", "pack", "build", str(source), "--id", "x")
    assert code == 0
    assert "warning" in err and "broken.jpg" in err and "error:" not in err
    assert f"Pack written to {tmp_path / 'ws' / 'packs' / 'x'}" in out
    for label in CLASSES:
        row = next(line for line in out.splitlines() if label in line)
        assert row.split()[3::2] == ["13", "2", "3", "2"]  # train, val, test, ranked between the │ borders
    assert len(open_pack(tmp_path / "ws" / "packs" / "x").splits["test"]) == 12


def test_pack_build_json_reports_counts_and_skipped_files(capsys, src, tmp_path):
    code, out, err = run(
        capsys, tmp_path, "pack", "build", str(src), "--id", "x", "--seed", "3", "--test", "0.25", "--json"
    )
    assert code == 0 and "warning" not in err
    report = json.loads(out)
    assert report["pack_dir"] == str(tmp_path / "packs" / "x")
    assert report["counts"]["test"] == {label: 5 for label in CLASSES}
    assert report["duplicates"] == [] and report["unreadable"] == []
    assert open_pack(report["pack_dir"]).meta["seed"] == 3


def test_the_workspace_comes_from_the_environment(capsys, src, tmp_path, monkeypatch):
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "env-ws"))
    assert main(["--quiet", "pack", "build", str(src), "--id", "x"]) == 0
    assert (tmp_path / "env-ws" / "packs" / "x" / "pack.json").is_file()


def test_pack_info_shows_classes_and_split_sizes(capsys, trained_workspace):
    code, out, _ = run(capsys, trained_workspace, "pack", "info", "x")
    assert code == 0
    for label in CLASSES:
        row = next(line for line in out.splitlines() if label in line)
        assert row.split()[3::2] == ["13", "2", "3"]
    assert "ranked: 8 images" in out


def test_train_prints_a_summary(capsys, trained_workspace, tmp_path):
    code, out, _ = run(
        capsys,
        trained_workspace,
        "train",
        "shallow",
        "--pack",
        "x",
        "--algorithm",
        "rf",
        "--n-estimators",
        "8",
        "--feature-size",
        "32",
        "--id",
        "forest",
        "--models-dir",
        str(tmp_path),
    )
    assert code == 0
    assert "shallow / rf" in out and "on 12 images" in out and str(tmp_path / "forest") in out
    # 20 images per class, 13 of them for training: the small-data path is suggested in one line
    assert "small pack (13 training images per class): try `eyevsai-train train embedding --pack x`" in out
    card = read_card(tmp_path / "forest")
    assert f"{card.metrics['test_accuracy']:.1%} on 12 images" in out
    assert card.training["params"]["n_estimators"] == 8


def test_train_json_prints_the_card(capsys, trained_workspace, tmp_path):
    code, out, _ = run(capsys, trained_workspace, *TRAIN_ARGS, "--id", "j", "--models-dir", str(tmp_path), "--json")
    assert code == 0
    card = json.loads(out)
    assert card["id"] == "j" and card["model_dir"] == str(tmp_path / "j")
    assert card["metrics"]["n_test"] == 12 and card["metrics"]["test_accuracy"] > 0.8
    assert card == {"model_dir": str(tmp_path / "j"), **read_card(tmp_path / "j").to_json_obj(), "at_chance": False}


def test_training_onto_an_existing_model_is_refused_unless_replace(capsys, trained_workspace, tmp_path):
    code, _, _ = run(capsys, trained_workspace, *TRAIN_ARGS, "--id", "kept", "--models-dir", str(tmp_path))
    assert code == 0
    before = read_card(tmp_path / "kept")
    code, out, err = run(
        capsys, trained_workspace, *TRAIN_ARGS, "--C", "0.5", "--id", "kept", "--models-dir", str(tmp_path)
    )
    assert code == 2 and f"A model already exists in {tmp_path / 'kept'}" in err and "--replace" in err
    assert read_card(tmp_path / "kept") == before  # untouched
    code, _, err = run(
        capsys, trained_workspace, *TRAIN_ARGS, "--C", "0.5", "--id", "kept", "--models-dir", str(tmp_path), "--replace"
    )
    assert code == 0, err
    assert read_card(tmp_path / "kept").training["params"]["C"] == 0.5


def test_models_lists_the_trained_model(capsys, trained_workspace):
    card = read_card(trained_workspace / "models" / "m")
    code, out, _ = run(capsys, trained_workspace, "models", "--pack", "x")
    assert code == 0
    row = next(line for line in out.splitlines() if " m " in line)
    assert "shallow/logreg" in row and f"{card.test_accuracy:.1%}" in row and "medium" in row
    code, out, _ = run(capsys, trained_workspace, "models", "--json", "--no-bundled")
    rows = json.loads(out)
    assert [(r["id"], r["pack"], r["test_accuracy"], r["difficulty"]) for r in rows] == [
        ("m", "x", card.test_accuracy, "medium")
    ]


def test_evaluate_reproduces_the_card_accuracy(capsys, trained_workspace):
    card = read_card(trained_workspace / "models" / "m")
    code, out, _ = run(capsys, trained_workspace, "evaluate", "m")
    assert code == 0
    assert f"test accuracy {card.test_accuracy:.1%}" in out and "12 images" in out
    code, out, _ = run(capsys, trained_workspace, "evaluate", "m", "--json")
    result = json.loads(out)
    assert (result["model"], result["pack"], result["n_test"]) == ("m", "x", 12)
    assert result["test_accuracy"] == card.test_accuracy and result["confusion"] == card.metrics["confusion"]


def test_evaluate_on_the_ranked_split_uses_the_built_packs_ranked_labels(capsys, trained_workspace):
    pack = json.loads((trained_workspace / "packs" / "x" / "pack.json").read_text())
    n_test, n_ranked = len(pack["splits"]["test"]), len(pack["splits"]["ranked"])
    assert n_ranked > 0
    results = {}
    for split in ("test", "ranked", "test+ranked"):
        code, out, _ = run(capsys, trained_workspace, "evaluate", "m", "--split", split, "--json")
        assert code == 0
        results[split] = json.loads(out)
    assert [results[s]["n_test"] for s in ("test", "ranked", "test+ranked")] == [n_test, n_ranked, n_test + n_ranked]
    correct = sum(round(results[s]["test_accuracy"] * results[s]["n_test"]) for s in ("test", "ranked"))
    assert round(results["test+ranked"]["test_accuracy"] * (n_test + n_ranked)) == correct
    code, _, err = run(capsys, trained_workspace, "evaluate", "m", "--split", "train")
    assert code == 2 and "Unknown split 'train'" in err


def test_export_game_writes_a_small_game_pack(capsys, trained_workspace, tmp_path):
    code, out, _ = run(
        capsys,
        trained_workspace,
        "pack",
        "export-game",
        "x",
        "--to",
        str(tmp_path),
        "--max-test",
        "4",
        "--max-ranked",
        "4",
    )
    assert code == 0 and f"game pack written to {tmp_path / 'x'}" in out
    game = open_pack(tmp_path / "x")
    assert game.meta["game_pack"] and len(game.splits["test"]) == len(game.splits["ranked"]) == 4


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["pack", "info", "nope"], "No pack 'nope'"),
        (["train", "shallow", "--pack", "nope"], "No pack 'nope'"),
        (["train", "shallow", "--pack", "x", "--algorithm", "boosting"], "no variant 'boosting'"),
        (["train", "shallow", "--pack", "x", "--algorithm", "logreg", "--C", "0"], "--C 0: C must be a number from"),
        (["evaluate", "nomodel"], "No model 'nomodel'"),
        (["train", "deep-v1", "--pack", "x", "--resume", "/nonexistent.pt"], "No checkpoint at /nonexistent.pt"),
        (
            ["train", "deep-v2", "--pack", "x", "--label-smoothing", "1"],
            "label_smoothing must be a number from 0 to 0.95",
        ),
        (["pack", "build", "/nonexistent/photos", "--id", "y"], "/nonexistent/photos does not exist"),
        (["pack", "build", "packaged:cifar", "--id", "y"], "Unknown packaged dataset 'cifar'"),
        (["pack", "build", "SRC", "--id", "x"], "already exists"),
        (["pack", "build", "SRC", "--id", "bad id!"], "may contain only"),
        (["pack", "build", "SRC", "--id=-pets"], "may contain only"),
        (["pack", "build", "SRC", "--id", "y", "--test", "0.9"], "leave at least 10% for training"),
        (["pack", "export-game", "x", "--to", "WS/packs"], "onto its source pack"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input_is_one_error_line_and_exit_code_2(capsys, trained_workspace, src, args, fragment):
    args = [a.replace("SRC", str(src)).replace("WS", str(trained_workspace)) for a in args]
    code, _, err = run(capsys, trained_workspace, *args)
    assert code == 2
    assert_one_line_error(err, fragment)
    assert not (trained_workspace / "packs" / "y").exists()
    assert len(open_pack(trained_workspace / "packs" / "x").available("train")) == 52  # the pack is untouched


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "shallow", "--n-estimators", "0"],
            "--n-estimators 0: n_estimators must be an integer from 1 to 5000.",
        ),
        (["train", "shallow", "--C", "abc"], "--C abc: C must be a number from 0.0001 to 10000."),
        (["train", "shallow", "--max-depth", "2.5"], "--max-depth 2.5: max_depth must be none or an integer from 1"),
        (["train", "shallow", "--gamma", "wide"], "--gamma wide: gamma must be 'scale', 'auto' or a number >= 0."),
        (["train", "shallow", "--feature-size", "60"], "feature_size 60 does not suit the features"),
        (["train", "deep-v2", "--device", "tpu"], "--device tpu: device must be one of 'auto', 'cpu', 'cuda'."),
        (["train", "deep-v2", "--warmup", "50"], "warmup must be from 0 to epochs (40), got 50.0."),
        (["train", "shallow", "--threads", "0"], "--threads 0: threads must be none or an integer from 1 to 1024."),
        (["train", "transfer", "--image-size", "16"], "--image-size 16: image_size must be an integer from 32 to 512."),
        (["tune", "shallow", "--set", "C=abc"], "--set C=abc: C must be a number from 0.0001 to 10000."),
        (["tune", "shallow", "--set", "nokey=1"], "--set nokey=1: no selected family has hyperparameter 'nokey'"),
        (["pipeline", "--packs", "nope", "--families", "shallow", "--set", "shallow.n_estimators=0"], "--set"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_hyperparameters_are_refused_before_any_pack_is_read(capsys, tmp_path, args, message):
    command = [*args, "--pack", "nope"] if args[0] != "pipeline" else args
    code, _, err = run(capsys, tmp_path, *command)  # there is no pack 'nope': a later check would say so
    assert code == 2
    assert_one_line_error(err, message)


def test_unknown_set_keys_are_refused_listing_the_known_ones(capsys, tmp_path):
    code, _, err = run(capsys, tmp_path, "tune", "shallow", "--pack", "nope", "--set", "shallow.nokey=1")
    assert code == 2
    assert_one_line_error(err, "family 'shallow' has no hyperparameter 'nokey'; the known ones are C, feature_size,")


def test_train_shallow_sets_gamma_and_min_samples_leaf_into_the_card(capsys, src, tmp_path):
    workspace = tmp_path / "ws"
    assert main(["--workspace", str(workspace), "--quiet", "pack", "build", str(src), "--id", "x"]) == 0
    capsys.readouterr()
    common = ["train", "shallow", "--pack", "x", "--feature-size", "32", "--json"]
    code, out, _ = run(capsys, workspace, *common, "--algorithm", "svm", "--gamma", "0.01", "--id", "svm")
    assert code == 0
    params = json.loads(out)["training"]["params"]
    assert (params["variant"], params["gamma"]) == ("svm", 0.01)
    assert read_card(workspace / "models" / "svm").training["params"] == params
    rf = ["--algorithm", "rf", "--n-estimators", "10", "--min-samples-leaf", "2", "--max-depth", "none", "--id", "rf"]
    code, out, _ = run(capsys, workspace, *common, *rf)
    assert code == 0
    params = json.loads(out)["training"]["params"]
    assert (params["variant"], params["min_samples_leaf"], params["max_depth"]) == ("rf", 2, None)


def test_threads_is_a_run_setting_the_card_records_apart_from_the_hyperparameters(capsys, src, tmp_path):
    workspace = tmp_path / "ws"
    assert main(["--workspace", str(workspace), "--quiet", "pack", "build", str(src), "--id", "x"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, workspace, *TRAIN_ARGS, "--threads", "1", "--json")
    assert code == 0
    training = json.loads(out)["training"]
    assert "threads" not in training["params"]  # another machine may train the same model with other threads
    assert training["threads"] == 1


def test_a_parameter_the_variant_does_not_use_is_refused_not_ignored(capsys, tmp_path):
    code, _, err = run(capsys, tmp_path, "train", "shallow", "--pack", "nope", "--min-samples-leaf", "2")
    assert code == 2
    assert_one_line_error(err, "--min-samples-leaf 2: min_samples_leaf is used only by --algorithm rf, not svm.")


def test_an_empty_class_folder_is_an_error_that_leaves_no_pack(capsys, tmp_path):
    source = write_image_folder(tmp_path / "pets", per_class=6)
    (source / "zebra").mkdir()
    code, _, err = run(capsys, tmp_path / "ws", "pack", "build", str(source), "--id", "y")
    assert code == 2
    assert_one_line_error(err, f"Class folder {source / 'zebra'} holds no images")
    assert list((tmp_path / "ws" / "packs").iterdir()) == []


def test_an_unknown_option_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, tmp_path, "pack", "build", "somewhere", "--id", "y", "--bogus")
    assert code == 2
    assert "No such option: --bogus" in err and "Traceback" not in err


def test_traceback_flag_re_raises(tmp_path):
    with pytest.raises(PackError, match="No pack 'nope'"):
        main(["--workspace", str(tmp_path), "--traceback", "pack", "info", "nope"])


def test_python_dash_m_trainer_end_to_end(trained_workspace):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(WORKSPACE_ENV, None)
    command = [sys.executable, "-m", "trainer", "--workspace", str(trained_workspace)]
    ok = subprocess.run(
        [*command, "models", "--json", "--no-bundled"], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert [row["id"] for row in json.loads(ok.stdout)] == ["m"]
    bad = subprocess.run(
        [*command, "evaluate", "nomodel"], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]
    assert bad.stderr.startswith("error: No model 'nomodel'")


DEEP_ARGS = [
    "--pack",
    "x",
    "--min-steps",
    "0",
    "--image-size",
    "16",
    "--width",
    "8",
    "--workers",
    "0",
    "--device",
    "cpu",
    "--batch-size",
    "16",
]


@pytest.mark.torch
def test_train_deep_v1_shows_epochs_and_resumes_from_its_checkpoint(capsys, trained_workspace, tmp_path):
    pytest.importorskip("torch")
    checkpoint = tmp_path / "v1.pt"
    code, out, err = run(
        capsys,
        trained_workspace,
        "train",
        "deep-v1",
        *DEEP_ARGS,
        "--epochs",
        "2",
        "--blocks",
        "2",
        "--id",
        "cnn",
        "--models-dir",
        str(tmp_path),
        "--checkpoint",
        str(checkpoint),
    )
    assert code == 0, err
    assert f"--resume {checkpoint}" in out
    assert "epoch 1/2: loss" in err and "epoch 2/2: loss" in err  # a lasting line per epoch
    assert "deep-v1 / cnn" in out and "on 12 images" in out
    card = read_card(tmp_path / "cnn")
    assert card.input.kind == "image" and card.input.height == 16
    assert card.training["epochs_run"] == 2 and len(card.training["history"]) == 2
    assert set(card.metrics["per_class"]) == set(CLASSES) and len(card.metrics["confusion"]) == len(CLASSES)

    resume = [*DEEP_ARGS, "--blocks", "2", "--models-dir", str(tmp_path), "--resume", str(checkpoint)]
    code, _, err = run(capsys, trained_workspace, "train", "deep-v1", *resume, "--epochs", "3", "--id", "cnn3")
    assert code == 2  # a 2-epoch cosine schedule stretched to 3 epochs is a run nobody asked for
    assert_one_line_error(err, "was trained with a 2-epoch cosine schedule")
    assert "pass --epochs 2 to resume it" in err

    code, _, err = run(capsys, trained_workspace, "train", "deep-v1", *resume, "--epochs", "2", "--id", "again")
    assert code == 0, err
    assert "resumed from" in err and "epoch 1/2" not in err  # nothing left to train: it ended at epoch 2
    resumed = read_card(tmp_path / "again").training["resumed"]
    assert resumed["checkpoint"] == "v1.pt" and resumed["after_epoch"] == 2 and len(resumed["checkpoint_sha256"]) == 64


@pytest.mark.torch
def test_a_card_holds_no_path_of_the_machine_that_trained_it(capsys, trained_workspace, tmp_path):
    pytest.importorskip("torch")
    checkpoint = tmp_path / "runs" / "v1.pt"
    args = [
        *DEEP_ARGS,
        "--epochs",
        "1",
        "--blocks",
        "2",
        "--models-dir",
        str(tmp_path),
        "--checkpoint",
        str(checkpoint),
    ]
    assert run(capsys, trained_workspace, "train", "deep-v1", *args, "--id", "first")[0] == 0
    code, _, err = run(
        capsys, trained_workspace, "train", "deep-v1", *args, "--resume", str(checkpoint), "--id", "resumed"
    )
    assert code == 0, err

    text = (tmp_path / "resumed" / "model.json").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and str(trained_workspace) not in text

    def strings(value):
        if isinstance(value, dict):
            return [s for item in value.values() for s in strings(item)]
        if isinstance(value, list):
            return [s for item in value for s in strings(item)]
        return [value] if isinstance(value, str) else []

    assert not [s for s in strings(json.loads(text)) if s.startswith((os.sep, "~"))]
    params = read_card(tmp_path / "resumed").training["params"]
    assert {"epochs", "seed", "lr"} <= set(params)
    assert not {"workers", "device", "checkpoint", "resume"} & set(params)  # this machine's run settings


@pytest.mark.torch
def test_train_deep_v2_json_records_the_regularisation(capsys, trained_workspace, tmp_path):
    pytest.importorskip("torch")
    code, out, err = run(
        capsys,
        trained_workspace,
        "train",
        "deep-v2",
        *DEEP_ARGS,
        "--epochs",
        "1",
        "--stages",
        "2",
        "--attention",
        "se",
        "--schedule",
        "onecycle",
        "--accumulate",
        "2",
        "--mixup-alpha",
        "0.4",
        "--id",
        "res",
        "--models-dir",
        str(tmp_path),
        "--json",
    )
    assert code == 0, err
    card = json.loads(out)
    assert card["family"] == "deep_v2" and card["variant"] == "se"
    params = card["training"]["params"]
    assert params["schedule"] == "onecycle" and params["accumulate"] == 2 and params["mixup_alpha"] == 0.4
    assert card["training"]["parity"]["max_abs_diff"] <= 1e-4


def write_noise_folder(root: Path, classes: int = 4, per_class: int = 20) -> Path:
    """Images of pure noise filed under arbitrary classes: nothing to learn, so any model is at chance."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(root / f"class{c}" / f"{i}.png")
    return root


def test_a_model_at_chance_is_flagged_after_train_evaluate_and_in_models_list(capsys, tmp_path):
    noise = write_noise_folder(tmp_path / "noise")
    assert main(["--workspace", str(tmp_path), "--quiet", "pack", "build", str(noise), "--id", "noise"]) == 0
    args = ["train", "shallow", "--pack", "noise", "--algorithm", "logreg", "--feature-size", "32", "--id", "n"]
    code, _, err = run(capsys, tmp_path, *args)
    assert code == 0, err
    warning = " ".join(err.split())
    assert "warning: n is at chance (" in warning and "test images, chance 25.0%" in warning
    assert "too few images, too few epochs, or try the small-data path" in warning
    code, out, err = run(capsys, tmp_path, "evaluate", "n")
    assert code == 0 and "n is at chance (" in " ".join(err.split())
    code, out, _ = run(capsys, tmp_path, "evaluate", "n", "--json")
    assert json.loads(out)["at_chance"] is True
    code, out, _ = run(capsys, tmp_path, "models", "list", "--no-bundled")
    assert "at chance" in next(line for line in out.splitlines() if " n " in line)


def test_a_model_better_than_chance_is_not_flagged(capsys, trained_workspace):
    code, out, err = run(capsys, trained_workspace, "evaluate", "m")
    assert code == 0 and "at chance" not in err
    code, out, _ = run(capsys, trained_workspace, "evaluate", "m", "--json")
    assert json.loads(out)["at_chance"] is False


REFUSED_TRAINING = [
    (["train", "shallow", "--pack", "nosuch"], "No pack 'nosuch'"),
    (["train", "shallow", "--pack", "x", "--algorithm", "boosting"], "no variant 'boosting'"),
    (["train", "deep-v1", "--pack", "x", "--epochs", "0"], "--epochs 0: epochs must be"),
    (["train", "deep-v1", "--pack", "x", "--resume", "/nonexistent.pt"], "No checkpoint at /nonexistent.pt"),
    (["train", "deep-v1", "--pack", "x", "--device", "cuda"], "device 'cuda' was asked for"),
    (["tune", "deep-v1", "--pack", "nosuch", "--trials", "1"], "No pack 'nosuch'"),
]


@pytest.mark.parametrize(("args", "fragment"), REFUSED_TRAINING, ids=lambda v: v if isinstance(v, str) else None)
def test_a_refused_training_command_leaves_no_row_in_the_registry(capsys, src, tmp_path, args, fragment):
    if "cuda" in args:
        torch = pytest.importorskip("torch")
        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU: --device cuda is not a mistake here")
    assert main(["--workspace", str(tmp_path), "--quiet", "pack", "build", str(src), "--id", "x"]) == 0
    code, _, err = run(capsys, tmp_path, *args)
    assert code == 2
    assert_one_line_error(err, fragment)
    registry = Workspace(tmp_path).registry()
    try:
        assert registry.records() == []
    finally:
        registry.close()
    assert not any((tmp_path / "models").glob("*")) if (tmp_path / "models").exists() else True
