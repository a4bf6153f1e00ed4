"""Bad input, said plainly: a read-only data folder and broken content each give a sentence naming the file and
what to do, and the rest stays playable (issue 17)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from classifiers.locations import bundled_assets_dir
from desktop.app import content_roots
from desktop.services import store as store_module
from desktop.services.catalog import load_catalog
from desktop.services.store import Store, StoreError, open_store

PACK = "fashion-mnist"


def _refuse_files(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make every open of a database FILE fail as a read-only folder makes it fail (sessions run as root, for
    whom chmod does not make anything read-only); in-memory databases still open."""
    real = sqlite_utils.Database

    def database(target: object = None, **kwargs: object) -> sqlite_utils.Database:
        if not isinstance(target, sqlite3.Connection):
            raise error
        return real(target, **kwargs)

    monkeypatch.setattr(store_module.sqlite_utils, "Database", database)


def test_a_read_only_folder_with_history_plays_from_memory_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "eyevsai.db"
    store = Store(path)
    store.profile_id("Ann")
    store.close()
    before = path.read_bytes()
    _refuse_files(monkeypatch, sqlite3.OperationalError("attempt to write a readonly database"))
    store = open_store(path)
    assert store.problem == (
        f"Your data folder {tmp_path} is read-only: playing without saving history. Make it writable, or start "
        "the game with --data-dir pointing to a folder you can write."
    )
    assert not store.is_saving
    assert store.profile_names() == ["Ann"]  # the history still shows
    store.profile_id("Bob")  # and the game still plays
    assert store.profile_names() == ["Ann", "Bob"]
    assert path.read_bytes() == before


def test_an_empty_unwritable_folder_plays_from_memory_with_the_right_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_files(monkeypatch, PermissionError(13, "Permission denied"))
    store = open_store(tmp_path / "data" / "eyevsai.db")
    assert store.problem and "is read-only: playing without saving history" in store.problem
    assert "Move the file away" not in store.problem
    assert store.profile_names() == []


def test_a_corrupt_database_is_still_an_error_that_says_to_move_it(tmp_path: Path) -> None:
    path = tmp_path / "eyevsai.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="Move the file away"):
        open_store(path)


def _copy_model(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "models" / name
    shutil.copytree(bundled_assets_dir() / "models" / name, target)
    return target


def test_broken_content_is_named_with_the_fix_and_the_rest_stays_playable(tmp_path: Path) -> None:
    orphan = _copy_model(tmp_path, "fashion-mnist-deep-v1")
    card = json.loads((orphan / "model.json").read_text())
    card.update(id="orphan", pack_id="kmnist")
    (orphan / "model.json").write_text(json.dumps(card))
    (tmp_path / "models" / "stray.onnx").write_bytes(b"onnx")
    (tmp_path / "models" / "half").mkdir()
    (tmp_path / "models" / "half" / "model.onnx").write_bytes(b"onnx")
    (tmp_path / "packs" / "no-meta" / "images").mkdir(parents=True)
    catalog = load_catalog(content_roots(tmp_path))
    problems = "\n".join(catalog.problems)
    assert "Model 'orphan'" in problems and "pack 'kmnist', which is not installed" in problems
    assert f"{tmp_path / 'models' / 'stray.onnx'} has no model card" in problems
    assert f"{tmp_path / 'models' / 'half' / 'model.onnx'} has no model card" in problems
    assert f"{tmp_path / 'packs' / 'no-meta'} is in the packs folder but has no pack.json" in problems
    assert len(catalog.problems) == 4
    assert [p.id for p in catalog.playable_packs()] == [PACK]


def test_a_pack_whose_listed_image_is_missing_says_which(tmp_path: Path) -> None:
    pack_dir = tmp_path / "packs" / PACK
    shutil.copytree(bundled_assets_dir() / "packs" / PACK, pack_dir)
    victim = json.loads((pack_dir / "pack.json").read_text())["splits"]["test"][0]["sha256"]
    next((pack_dir / "images" / victim[:2]).glob(f"{victim}.*")).unlink()
    catalog = load_catalog(content_roots(tmp_path))
    assert catalog.problems == [
        f"Pack '{PACK}' lists 1 image(s) that are missing from {pack_dir / 'images'} (e.g. {victim[:2]}/{victim}); "
        "sessions deal from the rest. Re-copy or rebuild the pack."
    ]
    assert catalog.playable_packs()
