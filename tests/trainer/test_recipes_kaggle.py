"""Kaggle and combined recipes, and `pack fetch --list`.

Kaggle's servers cannot be reached from a test, so only `kagglehub.dataset_download` is monkeypatched: it returns
a local folder shaped like the dataset (the vegetables' Vegetable Images/<split>/<Class>/*.jpg plus a CSV), after
the test checks which pinned handle it was asked for. Everything after it is the real code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import kagglehub
import numpy as np
import pytest
import requests

from classifiers.pack import open_pack
from classifiers.progress import run_to_end
from tests.helpers.synthetic import CLASS_STYLES, make_synthetic_pack
from trainer.cli import main
from trainer.recipes.fetch import RECIPE_FILE
from trainer.recipes.kaggle import tree_digest
from trainer.usecases import TrainerUseCases
from trainer.workspace import Workspace

A, B, C = sorted(CLASS_STYLES)[:3]
VEGETABLES = "misrakahmed/vegetable-image-dataset/versions/1"


def _kaggle_folder(root: Path, classes: tuple[str, ...] = ("Bean", "Bitter_Gourd", "Tomato")) -> Path:
    rng = np.random.default_rng(1)
    for split, count in (("train", 8), ("validation", 2), ("test", 2)):
        for label in classes:
            folder = root / "Vegetable Images" / split / label
            folder.mkdir(parents=True)
            for i in range(count):
                ok, data = cv2.imencode(".jpg", rng.integers(0, 256, (20, 20, 3), dtype=np.uint8))
                assert ok
                (folder / f"{i:04d}.jpg").write_bytes(data.tobytes())
    (root / "dataset_stats.csv").write_text("class,image_count\nBean,12\n", encoding="utf-8")
    return root


@pytest.fixture()
def token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", "player")
    monkeypatch.setenv("KAGGLE_KEY", "0123456789abcdef")


@pytest.fixture()
def no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle-config"))


@pytest.fixture()
def kaggle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """kagglehub's download call answers from a local folder and records the handles it was asked for."""
    asked: list[str] = []
    folder = _kaggle_folder(tmp_path / "kaggle-cache")

    def dataset_download(handle: str, *args, **kwargs) -> str:
        asked.append(handle)
        return str(folder)

    monkeypatch.setattr(kagglehub, "dataset_download", dataset_download)
    return asked


def _fetch(capsys, workspace: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(workspace), "pack", "fetch", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_kaggle_recipe_pins_its_version_and_records_what_was_fetched(token, kaggle, tmp_path, capsys):
    code, _, err = _fetch(capsys, tmp_path / "ws", "vegetables")
    assert code == 0, err
    assert kaggle == [VEGETABLES]
    pack = open_pack(tmp_path / "ws" / "packs" / "vegetables")
    assert pack.classes == ["bean", "bitter gourd", "tomato"]
    assert sum(len(entries) for entries in pack.splits.values()) == 36  # every split folder's images
    manifest = json.loads((pack.root / RECIPE_FILE).read_text())
    assert manifest["kaggle"] == {"handle": "misrakahmed/vegetable-image-dataset", "version": 1}
    assert manifest["class_mapping"]["Bitter_Gourd"] == "bitter gourd"
    folder = tmp_path / "kaggle-cache"
    csv = (folder / "dataset_stats.csv").read_bytes()
    assert manifest["file_sha256"]["dataset_stats.csv"] == hashlib.sha256(csv).hexdigest()
    assert manifest["files"] == 37
    assert manifest["tree_sha256"] == tree_digest(manifest["file_sha256"])


def test_a_kaggle_recipe_honours_the_limit_per_class(token, kaggle, tmp_path):
    usecases = TrainerUseCases(Workspace(tmp_path / "ws"))
    report = run_to_end(usecases.fetch_pack("vegetables", "veg-small", limit=10))
    counts = {label: sum(n.get(label, 0) for n in report.build.counts.values()) for label in ("bean", "tomato")}
    assert counts == {"bean": 10, "tomato": 10}


def test_a_missing_token_is_said_before_anything_is_downloaded(no_token, kaggle, tmp_path, capsys):
    code, _, err = _fetch(capsys, tmp_path / "ws", "street-foods")
    assert code == 2
    assert "No Kaggle API token" in err and "~/.kaggle/kaggle.json" in err and "KAGGLE_USERNAME" in err
    assert kaggle == []
    assert not (tmp_path / "ws" / "packs").exists()


def test_kaggle_offline_says_so_and_builds_nothing(token, monkeypatch, tmp_path, capsys):
    def offline(handle: str, *args, **kwargs) -> str:
        raise requests.ConnectionError("Failed to establish a new connection: [Errno -3] name resolution")

    monkeypatch.setattr(kagglehub, "dataset_download", offline)
    code, _, err = _fetch(capsys, tmp_path / "ws", "music-instruments")
    assert code == 2
    assert "nikolasgegenava/music-instruments/versions/1 failed" in err and "internet connection" in err
    assert not (tmp_path / "ws" / "packs").exists()


def test_combined_prefixes_every_class_with_its_pack(tmp_path, capsys):
    workspace = Workspace(tmp_path / "ws")
    make_synthetic_pack(workspace.packs_dir, pack_id="stripes", per_class=12, classes=[A, B])
    make_synthetic_pack(workspace.packs_dir, pack_id="dots", per_class=12, seed=1, classes=[A, C])
    code, _, err = _fetch(capsys, workspace.root, "combined", "--from", "stripes,dots", "--id", "mix")
    assert code == 0, err
    pack = open_pack(workspace.packs_dir / "mix")
    assert pack.classes == [f"dots: {A}", f"dots: {C}", f"stripes: {A}", f"stripes: {B}"]
    assert sum(len(entries) for entries in pack.splits.values()) == 48  # ranked images count too
    manifest = json.loads((pack.root / RECIPE_FILE).read_text())
    assert [part["pack_id"] for part in manifest["parts"]] == ["stripes", "dots"]
    assert manifest["class_mapping"]["dots"] == {A: f"dots: {A}", C: f"dots: {C}"}


def test_combined_names_the_recipe_of_a_missing_part(tmp_path, capsys):
    workspace = Workspace(tmp_path / "ws")
    make_synthetic_pack(workspace.packs_dir, pack_id="stripes", per_class=12, classes=[A, B])
    code, _, err = _fetch(capsys, workspace.root, "combined", "--from", "stripes,vegetables")
    assert code == 2
    assert "No pack 'vegetables'" in err and "eyevsai-train pack fetch vegetables" in err
    assert not (workspace.packs_dir / "combined").exists()


def test_list_shows_every_recipe_with_size_licence_and_source(tmp_path, capsys):
    code, out, _ = _fetch(capsys, tmp_path, "--list")
    assert code == 0
    for fragment in ("oxford-pets", "oxford-pets-catdog", "vegetables", "street-foods", "music-instruments"):
        assert fragment in out
    for licence in ("CC BY-SA 4.0", "CC BY-NC 4.0", "MIT"):
        assert licence in out
    assert "811 MB" in out and "robots.ox.ac.uk" in out

    code, out, _ = _fetch(capsys, tmp_path, "--list", "--json")
    recipes = {r["name"]: r for r in json.loads(out)}
    assert len(recipes["oxford-pets"]["classes"]) == 37
    assert recipes["vegetables"]["needs"] == "Kaggle API token"
    assert "kaggle.com/datasets/misrakahmed/vegetable-image-dataset (version 1)" in recipes["vegetables"]["source"]
