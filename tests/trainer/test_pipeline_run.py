"""The train-all pipeline end to end, as a user runs it: worker processes, failures, a kill, and a re-run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from classifiers.card import file_sha256, read_card
from tests.helpers.synthetic import make_synthetic_pack
from tests.helpers.waiting import wait_for
from trainer.model_registry import is_alive
from trainer.tuning import open_storage
from trainer.workspace import WORKSPACE_ENV

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def command(workspace: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "trainer", "--workspace", str(workspace), "pipeline", "--packs", "tiny", *args]


def environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(WORKSPACE_ENV, None)
    return env


def pipeline(workspace: Path, *args: str) -> tuple[int, dict, str]:
    done = subprocess.run(
        command(workspace, *args, "--json"), capture_output=True, text=True, cwd=REPO, env=environment(), timeout=600
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


def registry_rows(workspace: Path) -> list[dict]:
    with sqlite3.connect(workspace / "registry.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM models ORDER BY created")]


@pytest.fixture()
def workspace(tmp_path) -> Path:
    make_synthetic_pack(tmp_path / "packs", pack_id="tiny", per_class=24)
    return tmp_path


def test_a_failed_job_is_isolated_and_a_rerun_skips_what_finished(workspace):
    # each value is valid on its own (so --set accepts it); together they fail deep_v2's fit, in its worker
    code, out, _ = pipeline(
        workspace,
        "--families",
        "shallow/logreg,deep-v2/se",
        "--jobs",
        "2",
        "--set",
        "feature_size=32",
        "--set",
        "deep_v2.epochs=1",
        "--set",
        "deep_v2.min_steps=0",
        "--set",
        "deep_v2.warmup=5",
    )
    jobs = {job["variant"]: job for job in out["jobs"]}
    assert code == 1 and out["counts"] == {"done": 1, "skipped": 0, "failed": 1}
    assert jobs["logreg"]["status"] == "done" and jobs["logreg"]["test_accuracy"] > 0.8
    assert jobs["se"]["status"] == "failed" and "warmup" in jobs["se"]["error"]
    log = Path(jobs["se"]["log"]).read_text()
    assert "Traceback" in log and "warmup" in log and "FAILED" in log
    assert {r["id"]: r["status"] for r in registry_rows(workspace)} == {
        jobs["logreg"]["model_id"]: "done",
        jobs["se"]["model_id"]: "failed",
    }

    code, again, _ = pipeline(
        workspace,
        "--families",
        "shallow/logreg,deep-v2/se",
        "--jobs",
        "2",
        "--set",
        "feature_size=32",
        "--set",
        "deep_v2.epochs=1",
        "--set",
        "deep_v2.min_steps=0",
        "--set",
        "image_size=16",
        "--set",
        "width=8",
        "--set",
        "stages=1",
        "--set",
        "device=cpu",
        "--auto-cleanup",
    )
    rerun = {job["variant"]: job for job in again["jobs"]}
    assert code == 0 and again["counts"] == {"done": 1, "skipped": 1, "failed": 0}
    assert rerun["logreg"]["status"] == "skipped"
    assert (rerun["logreg"]["model_id"], rerun["logreg"]["test_accuracy"]) == (
        jobs["logreg"]["model_id"],
        jobs["logreg"]["test_accuracy"],
    )
    assert rerun["se"]["status"] == "done"
    assert again["cleaned"] == [f"{jobs['se']['model_id']} (failed: {jobs['se']['error']})"]
    assert sorted(r["difficulty"] for r in registry_rows(workspace)) == ["easy", "hard"]


def test_a_bad_set_value_is_refused_before_any_job_starts(workspace):
    code, out, err = pipeline(workspace, "--families", "shallow/rf", "--set", "shallow.max_depth=-1")
    assert code == 2 and out == {}
    assert "--set shallow.max_depth=-1: max_depth must be none or an integer from 1 to 200." in err
    assert not (workspace / "registry.db").exists() or registry_rows(workspace) == []


TINY_RUN = (
    "--families",
    "shallow/logreg,deep-v1",
    "--jobs",
    "2",
    "--tune",
    "--trials",
    "3",
    "--set",
    "feature_size=32",
    "--set",
    "pca_components=null",
    "--set",
    "deep_v1.epochs=3",
    "--set",
    "deep_v1.min_steps=0",
    "--set",
    "image_size=16",
    "--set",
    "width=8",
    "--set",
    "blocks=2",
    "--set",
    "device=cpu",
)


def done_rows(workspace: Path) -> dict[str, dict]:
    if not (workspace / "registry.db").exists():
        return {}
    try:
        return {r["id"]: r for r in registry_rows(workspace) if r["status"] == "done"}
    except sqlite3.OperationalError:  # the table is being created
        return {}


def finished_trials(workspace: Path) -> list[tuple[int, float | None, str]]:
    try:
        study = optuna.load_study(study_name="tiny.deep_v1.cnn", storage=open_storage(workspace / "tuning.db"))
    except KeyError:  # the study was not created before the kill
        return []
    return [(t.number, t.value, t.state.name) for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]


@pytest.mark.torch
def test_a_killed_pipeline_resumes_without_redoing_finished_work(workspace, tmp_path):
    pytest.importorskip("torch")
    with open(tmp_path / "first.out", "w") as out, open(tmp_path / "first.err", "w") as err:
        first = subprocess.Popen(command(workspace, *TINY_RUN), stdout=out, stderr=err, cwd=REPO, env=environment())
        finished = wait_for(lambda: done_rows(workspace) or first.poll() is not None, 400, "a first finished job")
        os.kill(first.pid, signal.SIGKILL)  # no chance to clean up: as a power cut or `kill -9` would
        first.wait()
    assert isinstance(finished, dict), (tmp_path / "first.err").read_text()
    before = done_rows(workspace)
    assert len(before) == 1, "the kill came too late: both jobs had finished"
    models = workspace / "models"
    stamps = {model_id: (models / model_id / "model.onnx").stat().st_mtime_ns for model_id in before}
    orphans = [r["pid"] for r in registry_rows(workspace) if r["status"] == "running"]
    wait_for(lambda: not any(is_alive(pid) for pid in orphans), 15, "the killed pipeline's workers to exit")
    trials_before = finished_trials(workspace)

    code, out, err = pipeline(workspace, *TINY_RUN)

    assert code == 0, err
    reports = {job["family"]: job for job in out["jobs"]}
    ((done_id, _),) = before.items()
    finished_family = before[done_id]["family"]
    assert reports[finished_family]["status"] == "skipped" and reports[finished_family]["model_id"] == done_id
    assert [job["status"] for job in out["jobs"] if job["family"] != finished_family] == ["done"]
    # nothing finished was redone
    assert {model_id: (models / model_id / "model.onnx").stat().st_mtime_ns for model_id in before} == stamps
    after = done_rows(workspace)
    assert {k: before[done_id][k] for k in ("onnx_sha256", "created", "finished")} == {
        k: after[done_id][k] for k in ("onnx_sha256", "created", "finished")
    }
    # the registry is consistent: one playing model per job, files matching, nothing left running or half-written
    rows = registry_rows(workspace)
    assert not [r for r in rows if r["status"] == "running"]
    assert sorted((r["family"], r["variant"]) for r in after.values()) == [("deep_v1", "cnn"), ("shallow", "logreg")]
    assert all(r["status"] in ("done", "interrupted") for r in rows)
    for row in after.values():
        assert file_sha256(row["onnx_path"]) == row["onnx_sha256"] == read_card(row["model_dir"]).onnx_sha256
        assert row["tuned"] == 1 and json.loads(row["config"])["tuning"]["COMPLETE"] >= 1
    assert sorted(r["difficulty"] for r in after.values()) == ["easy", "hard"]
    assert not list(models.glob("*.partial")) and not list((workspace / "checkpoints").glob("*.pt"))
    # the interrupted study was resumed, not restarted: its earlier trials are kept and it holds exactly 3
    trials_after = finished_trials(workspace)
    assert trials_after[: len(trials_before)] == trials_before and len(trials_after) == 3
