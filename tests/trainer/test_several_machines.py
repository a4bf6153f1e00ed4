"""Training on several machines, played by several processes on one machine against one PostgreSQL database.

Two `eyevsai-train pipeline` commands on one registry URL (and one shared workspace folder) never run the same job,
and when one is killed with SIGKILL mid-job the other takes its job over once the lease runs out. Two `tune`
commands on one `--storage` URL add their trials to one study. Skipped without $EYEVSAI_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.helpers.synthetic import make_synthetic_pack
from tests.helpers.waiting import wait_for
from trainer.model_registry import HOST_ENV, REGISTRY_URL_ENV, ModelRegistry
from trainer.tuning import open_storage
from trainer.workspace import WORKSPACE_ENV

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
JOBS = ("--families", "shallow", "--set", "feature_size=32", "--set", "shallow.n_estimators=5", "--lease", "3")


def environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in (WORKSPACE_ENV, REGISTRY_URL_ENV, HOST_ENV, "EYEVSAI_TUNING_STORAGE"):
        env.pop(name, None)
    return env


def start(workspace: Path, out: Path, *args: str) -> subprocess.Popen:
    """`eyevsai-train --workspace WORKSPACE ARGS --json` in the background, its output in `out` (and .err), as a
    machine of its own (named after `out`): this host cannot tell whether another machine's process lives."""
    command = [sys.executable, "-m", "trainer", "--workspace", str(workspace), *args, "--json"]
    env = {**environment(), HOST_ENV: f"machine-{out.stem}"}
    with open(out, "w") as stdout, open(out.with_suffix(".err"), "w") as stderr:
        return subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=REPO, env=env)


def finish(process: subprocess.Popen, out: Path) -> dict:
    assert process.wait(timeout=600) == 0, out.with_suffix(".err").read_text()
    return json.loads(out.read_text())


def rows(url: str) -> list:
    registry = ModelRegistry(url)
    try:
        return registry.records()
    finally:
        registry.close()


@pytest.fixture()
def workspace(tmp_path) -> Path:
    for pack_id in ("tiny", "tiny2"):
        make_synthetic_pack(tmp_path / "ws" / "packs", pack_id=pack_id, per_class=16)
    return tmp_path / "ws"


def test_two_pipelines_share_the_jobs_and_one_takes_over_a_killed_ones_job(workspace, postgres_url, tmp_path):
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    first, second = (
        start(workspace, out, "--registry", postgres_url, "pipeline", "--packs", "tiny,tiny2", *JOBS) for out in outs
    )
    mid_job = wait_for(
        lambda: [r for r in rows(postgres_url) if r.status == "running" and r.owner_pid == first.pid],
        300,
        "the first pipeline to start a job",
    )
    os.kill(first.pid, signal.SIGKILL)  # a machine lost mid-job: no chance to release its claim
    first.wait()
    killed = mid_job[0]

    out = finish(second, outs[1])

    records = rows(postgres_url)
    by_job: dict[str, list] = {}
    for record in records:
        by_job.setdefault(record.job, []).append(record)
    assert len(by_job) == 6  # 2 packs × 3 shallow variants, and every job has its model
    for job, runs in by_job.items():
        assert [r.status for r in runs if r.status == "done"] == ["done"], job
    # the killed job: interrupted where it was killed, then run (once) by the second pipeline after the lease
    retried = sorted(by_job[killed.job], key=lambda r: r.created)
    assert [r.status for r in retried] == ["interrupted", "done"]
    assert retried[0].id == killed.id and "machine-a:" in retried[0].error and "stopped renewing" in retried[0].error
    assert (retried[1].owner_pid, retried[1].host) == (second.pid, "machine-b") and retried[1].created >= retried[
        0
    ].finished
    # no job ran twice at the same time: every other job has a single run
    assert all(len(runs) == 1 for job, runs in by_job.items() if job != killed.job)
    reports = {(j["pack"], j["variant"]): j for j in out["jobs"]}
    assert {j["status"] for j in reports.values()} <= {"done", "skipped"} and out["counts"]["failed"] == 0
    assert reports[(killed.pack_id, killed.variant)]["status"] == "done"
    for record in records:
        if record.status == "done":
            assert Path(record.onnx_path).is_file()  # the models folder is shared: every model is there


def test_two_pipelines_without_a_kill_each_run_some_jobs_and_none_twice(workspace, postgres_url, tmp_path):
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    processes = [
        start(workspace, out, "--registry", postgres_url, "pipeline", "--packs", "tiny,tiny2", *JOBS) for out in outs
    ]
    results = [finish(process, out) for process, out in zip(processes, outs, strict=True)]

    records = rows(postgres_url)
    assert sorted(r.status for r in records) == ["done"] * 6 and len({r.job for r in records}) == 6
    ran = [{j["model_id"] for j in result["jobs"] if j["status"] == "done"} for result in results]
    assert not ran[0] & ran[1] and (ran[0] | ran[1]) == {r.id for r in records}
    for result in results:  # each reports every job: the other pipeline's as skipped, naming it
        assert len(result["jobs"]) == 6 and result["counts"]["failed"] == 0
        assert all("run by the pipeline" in j["note"] for j in result["jobs"] if j["status"] == "skipped")


def test_two_tune_commands_add_their_trials_to_one_study(postgres_url, tmp_path):
    args = ("tune", "shallow", "--pack", "tiny", "--variant", "logreg", "--trials", "4", "--set", "feature_size=32")
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    machines = [tmp_path / "host-a", tmp_path / "host-b"]  # only the study is shared; each keeps its own workspace
    for root in machines:
        make_synthetic_pack(root / "packs", pack_id="tiny", per_class=16)
    processes = [start(root, out, *args, "--storage", postgres_url) for root, out in zip(machines, outs, strict=True)]
    results = [finish(process, out) for process, out in zip(processes, outs, strict=True)]

    study = optuna.load_study(study_name="tiny.shallow.logreg", storage=open_storage(postgres_url))
    finished = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    # one study: 4 trials in all (one more when both asked for the last one at once), not 4 per command
    assert 4 <= len(finished) <= 5
    assert {result["study"] for result in results} == {"tiny.shallow.logreg"}
    assert all("options=-csearch_path" in result["storage"] for result in results)
    assert not any((root / "tuning.db").exists() for root in machines)
    # each command re-trained the study's best into its own workspace
    assert all(
        Path(result["model"]["model_dir"]).is_relative_to(root) for root, result in zip(machines, results, strict=True)
    )
