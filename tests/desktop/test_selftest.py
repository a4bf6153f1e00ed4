"""`eyevsai --self-test` in-process: passes on the bundled content, fails with a plain reason when it is broken."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifiers.card import ModelCard
from classifiers.locations import bundled_assets_dir
from desktop.app import main as eyevsai
from desktop.selftest import SelfTestError, _check_accuracy, run_self_test
from desktop.services.catalog import OpponentEntry, load_catalog


def _run(assets: Path, data: Path) -> tuple[int, list[str]]:
    lines: list[str] = []
    return run_self_test(assets_dir=assets, data_dir=data, device="cpu", out=lines.append), lines


def test_passes_on_the_bundled_content(tmp_path: Path) -> None:
    status, lines = _run(bundled_assets_dir(), tmp_path / "data")
    assert status == 0, lines
    text = "\n".join(lines)
    for entry in load_catalog([bundled_assets_dir()]).opponents_for("fashion-mnist"):
        assert f"model {entry.card.id} ({entry.difficulty}): CPUExecutionProvider" in text
    assert f"user data folder: {tmp_path / 'data'} (writable)" in text
    assert "points), AI '" in text and "commitment verified" in text
    assert lines[-1].startswith("self-test passed in ")
    assert not list((tmp_path / "data").iterdir())  # the scripted game leaves no trace in the player's data


def test_the_command_line_flag_runs_it_before_any_window(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder should be")
    assert eyevsai(["--self-test", "--device", "cpu", "--data-dir", str(blocker / "data")]) == 1
    out = capsys.readouterr().out
    assert f"bundled assets: {bundled_assets_dir()}" in out
    assert "self-test FAILED: The user data folder" in out


def test_no_content_fails_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    status, lines = _run(tmp_path / "assets", tmp_path / "data")
    assert status == 1
    assert lines[-1].startswith("self-test FAILED: No playable pack with models under")
    assert "reinstall the game" in lines[-1]


def test_a_damaged_model_fails_with_its_name(tmp_path: Path) -> None:
    assets = shutil.copytree(bundled_assets_dir(), tmp_path / "assets")
    onnx = assets / "models" / "fashion-mnist-shallow-rf" / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-10])
    status, lines = _run(assets, tmp_path / "data")
    assert status == 1
    assert lines[-1].startswith("self-test FAILED: The bundled content is damaged")
    assert "fashion-mnist-shallow-rf" in lines[-1]


def test_an_unwritable_data_folder_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder should be")
    status, lines = _run(bundled_assets_dir(), blocker / "data")
    assert status == 1
    assert "is not writable" in lines[-1] and "--data-dir" in lines[-1]


def test_a_model_far_below_its_card_accuracy_fails() -> None:
    entry = next(iter(load_catalog([bundled_assets_dir()]).opponents_for("fashion-mnist")))
    card = ModelCard.from_json_obj({**entry.card.to_json_obj(), "metrics": {"test_accuracy": 0.9}})
    broken = OpponentEntry(entry.model_dir, card, entry.difficulty)
    _check_accuracy(broken, 0.8, 200)  # within the margin
    with pytest.raises(SelfTestError, match="right on 10.0% of 200 test images, far below its card's 90.0%"):
        _check_accuracy(broken, 0.1, 200)


def test_two_onnxruntime_builds_are_warned_about_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import desktop.app

    monkeypatch.setattr(desktop.app, "install_problem", lambda: "onnxruntime and onnxruntime-gpu are installed")
    assert eyevsai(["--data-dir", str(tmp_path), "verify", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert "eyevsai: warning: onnxruntime and onnxruntime-gpu are installed" in err
    assert "No proof file at" in err
