"""The model registry: recording runs, superseding, difficulty terciles, and settling runs a kill left behind.

Each test using the `registry` fixture runs on an SQLite file and, when $EYEVSAI_TEST_POSTGRES_URL is set (as in
CI), on PostgreSQL: the same code path serves a registry shared by several machines.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Generator
from pathlib import Path

import pytest

from classifiers.card import read_card
from classifiers.difficulty import assign_difficulties
from classifiers.errors import ConfigError
from classifiers.progress import run_to_end
from tests.helpers.synthetic import make_synthetic_pack
from trainer.model_registry import (
    DONE,
    FAILED,
    INTERRUPTED,
    MISSING,
    RUNNING,
    SCHEMA_VERSION,
    SUPERSEDED,
    ModelRegistry,
    RegistryError,
    record_training,
)
from trainer.training import train_model

FAST = {"feature_size": 32}


def drive(work: Generator):
    return run_to_end(work)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def train(registry: ModelRegistry, pack, models_dir: Path, model_id: str, variant: str = "logreg", **params):
    work = train_model("shallow", pack, models_dir, variant=variant, params={**FAST, **params}, model_id=model_id)
    return drive(
        record_training(
            registry,
            work,
            model_id=model_id,
            family="shallow",
            variant=variant,
            pack_id=pack.id,
            models_dir=models_dir,
            config={"params": {**FAST, **params}},
        )
    )


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return make_synthetic_pack(tmp_path_factory.mktemp("packs"), per_class=24)


def test_a_registry_from_before_urls_is_migrated_with_its_runs(tmp_path):
    path = tmp_path / "registry.db"
    with sqlite3.connect(path) as db:  # the version-1 schema sqlite-utils made
        db.execute(
            "CREATE TABLE models (id TEXT PRIMARY KEY, family TEXT NOT NULL, variant TEXT NOT NULL, pack_id TEXT "
            "NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, job TEXT, tuned INTEGER, config TEXT, metrics "
            "TEXT, test_accuracy FLOAT, difficulty TEXT, model_dir TEXT, onnx_path TEXT, onnx_sha256 TEXT, "
            "onnx_bytes INTEGER, created TEXT, finished TEXT, seconds FLOAT, log_path TEXT, checkpoint TEXT, "
            "pid INTEGER, owner_pid INTEGER, error TEXT)"
        )
        db.execute(
            "INSERT INTO models (id, family, variant, pack_id, version, status, created) "
            "VALUES ('old', 'shallow', 'svm', 'p', 1, 'failed', '2026-01-01')"
        )
        db.execute("PRAGMA user_version = 1")
    registry = ModelRegistry(path)
    try:
        assert [(r.id, r.status, r.host) for r in registry.records()] == [("old", FAILED, None)]
    finally:
        registry.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT COUNT(*) FROM pipeline_jobs").fetchone() == (0,)


def test_a_new_registry_has_the_current_schema_and_refuses_a_newer_one(tmp_path):
    registry = ModelRegistry(tmp_path / "registry.db")
    registry.close()
    with sqlite3.connect(tmp_path / "registry.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(RegistryError, match="schema version 99, newer than this trainer's"):
        ModelRegistry(tmp_path / "registry.db")


def test_a_newer_model_supersedes_the_older_one_in_the_same_folder_only(registry, pack, tmp_path):
    first = train(registry, pack, tmp_path / "models", "first")
    second = train(registry, pack, tmp_path / "models", "second", C=0.5)
    elsewhere = train(registry, pack, tmp_path / "other", "elsewhere")
    rows = {r.id: r for r in registry.records()}
    assert (rows["first"].status, rows["first"].version, rows["first"].difficulty) == (SUPERSEDED, 1, None)
    assert (rows["second"].status, rows["second"].version) == (DONE, 2)
    assert rows["elsewhere"].status == DONE  # another models folder is another collection
    second_row = rows["second"]
    assert second_row.onnx_sha256 == second.card.onnx_sha256 == read_card(second.model_dir).onnx_sha256
    assert second_row.onnx_bytes == (second.model_dir / "model.onnx").stat().st_size
    assert second_row.test_accuracy == second.card.test_accuracy and second_row.metrics == second.card.metrics
    assert second_row.config == {"params": {**FAST, "C": 0.5}}
    assert [r.id for r in registry.active(pack.id, tmp_path / "models")] == ["second"]
    assert first.model_dir.is_dir() and elsewhere.model_dir.is_dir()  # superseding deletes nothing


def test_a_failed_training_is_recorded_with_its_error(registry, pack, tmp_path):
    with pytest.raises(ConfigError, match="C must be a number from 0.0001 to 10000"):
        train(registry, pack, tmp_path / "models", "broken", C=-1.0)
    row = registry.get("broken")
    assert row.status == FAILED and "C must be a number from 0.0001 to 10000" in row.error and row.finished
    assert not (tmp_path / "models" / "broken").exists() and not (tmp_path / "models" / "broken.partial").exists()


def test_a_run_records_where_its_checkpoint_goes(registry, pack, tmp_path):
    checkpoint = tmp_path / "checkpoints" / "run.pt"
    work = train_model("shallow", pack, tmp_path / "models", variant="logreg", params={"C": -1.0}, model_id="run")
    with pytest.raises(ConfigError):
        drive(
            record_training(
                registry,
                work,
                model_id="run",
                family="shallow",
                variant="logreg",
                pack_id=pack.id,
                models_dir=tmp_path / "models",
                config={"params": {"checkpoint": str(checkpoint)}},
            )
        )
    assert registry.get("run").checkpoint == str(checkpoint)


def test_difficulties_are_terciles_of_the_active_models_and_rewrite_the_cards(registry, pack, tmp_path):
    models = tmp_path / "models"
    for model_id, variant, params in (
        ("a", "logreg", {"C": 0.001}),
        ("b", "rf", {"n_estimators": 3}),
        ("c", "svm", {}),
    ):
        train(registry, pack, models, model_id, variant, **params)
    cards = [read_card(models / model_id) for model_id in "abc"]
    expected = assign_difficulties(cards)
    assert sorted(expected.values()) == ["easy", "hard", "medium"]
    assert {r.id: r.difficulty for r in registry.active(pack.id)} == expected
    assert {card.id: card.difficulty for card in cards} == expected  # the cards on disk say the same


def test_reconcile_settles_runs_of_dead_processes_and_adopts_unknown_folders(registry, pack, tmp_path):
    models = tmp_path / "models"
    # a run killed after its folder was renamed into place: it finished
    drive(train_model("shallow", pack, models, variant="logreg", params=FAST, model_id="finished-late", reassign=False))
    gone = dead_pid()
    registry.begin(
        "finished-late",
        family="shallow",
        variant="logreg",
        pack_id=pack.id,
        config={},
        model_dir=models / "finished-late",
        pid=gone,
        owner_pid=gone,
    )
    # a run killed mid-way: only its half-written folder exists
    registry.begin(
        "killed",
        family="shallow",
        variant="rf",
        pack_id=pack.id,
        config={},
        model_dir=models / "killed",
        pid=gone,
        owner_pid=gone,
    )
    (models / "killed.partial").mkdir()
    # a run of a live process is left alone, and so is another machine's (its pid means nothing here)
    registry.begin("live", family="shallow", variant="svm", pack_id=pack.id, config={}, model_dir=models / "live")
    registry.begin("remote", family="shallow", variant="svm", pack_id="p2", config={}, model_dir=models / "remote")
    with registry.engine.begin() as connection:
        connection.execute(
            registry.models.update()
            .where(registry.models.c.id == "remote")
            .values(host="other-machine", owner_pid=gone)
        )
    # a folder nobody recorded, and a recorded model whose folder was deleted
    drive(train_model("shallow", pack, models, variant="svm", params=FAST, model_id="stray", reassign=False))
    train(registry, pack, tmp_path / "other", "deleted")
    shutil.rmtree(tmp_path / "other" / "deleted")

    changes = registry.reconcile(models)

    status = {r.id: r.status for r in registry.records()}
    assert status == {
        "finished-late": DONE,
        "killed": INTERRUPTED,
        "live": RUNNING,
        "remote": RUNNING,
        "stray": DONE,
        "deleted": MISSING,
    }
    assert not (models / "killed.partial").exists()
    assert registry.get("finished-late").onnx_sha256 == read_card(models / "finished-late").onnx_sha256
    assert any("adopted" in line and "stray" in line for line in changes)
    assert registry.reconcile(models) == []  # settled: a second pass changes nothing


def test_removing_a_run_deletes_its_files_and_row(registry, pack, tmp_path):
    result = train(registry, pack, tmp_path / "models", "doomed")
    removed = registry.remove(registry.get("doomed"))
    assert result.model_dir in removed and not result.model_dir.exists()
    assert registry.find("doomed") is None
