"""Pipeline job claims: one holder per job, a lapsed lease taken over, a job ended elsewhere not run again.

Two JobClaims stand for two pipelines (two machines); each test runs on an SQLite registry and, when
$EYEVSAI_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
import time

from trainer.model_registry import DONE, FAILED, HOST, INTERRUPTED, RUNNING, ModelRegistry
from trainer.pipeline.claims import JobClaims
from trainer.pipeline.plan import Job

JOB = Job("tiny", "shallow", "svm")


def pipeline(registry: ModelRegistry, name: str, **options) -> JobClaims:
    claims = JobClaims(registry, **options)
    claims.owner = f"{name}:1"  # both live in this test process: their owners must differ as two machines' do
    return claims


def start(registry: ModelRegistry, model_id: str) -> None:
    registry.begin(model_id, family="shallow", variant="svm", pack_id="tiny", config={}, model_dir=f"/m/{model_id}")


def test_a_held_job_is_taken_over_only_after_its_lease_runs_out(registry):
    first, second = pipeline(registry, "a", lease_s=0.6), pipeline(registry, "b", lease_s=0.6)
    assert first.claim(JOB, "run-a").outcome == "claimed"
    start(registry, "run-a")
    held = second.claim(JOB, "run-b")
    assert (held.outcome, held.owner, held.model_id) == ("held", "a:1", "run-a")
    time.sleep(0.4)
    assert first.renew([JOB.key]) == []  # a renewed lease keeps the job with its holder
    time.sleep(0.4)
    assert second.claim(JOB, "run-b").outcome == "held"

    time.sleep(0.7)  # the first pipeline stopped renewing (killed): the job is claimable again
    taken = second.claim(JOB, "run-b")

    assert (taken.outcome, taken.model_id, taken.owner) == ("claimed", "run-a", "a:1")
    stale = registry.get("run-a")
    assert stale.status == INTERRUPTED and "a:1 stopped renewing" in stale.error and stale.finished
    assert first.renew([JOB.key]) == [JOB.key]  # the first pipeline, if it wakes up, learns it lost the job
    assert first.claim(JOB, "run-a2").outcome == "held"


def test_a_job_ended_by_another_pipeline_is_reported_not_run_again(registry):
    earlier = pipeline(registry, "late-starter", since=time.time() - 60)
    holder = pipeline(registry, "a")
    assert holder.claim(JOB, "run-a").outcome == "claimed"
    holder.release(JOB, DONE)
    done = earlier.claim(JOB, "run-b")
    assert (done.outcome, done.model_id, done.owner) == (DONE, "run-a", "a:1")

    # a command started after the job ended (e.g. with --retrain, or the model was removed) may run it again
    later = pipeline(registry, "next-day", since=time.time() + 1)
    assert later.claim(JOB, "run-c").outcome == "claimed"
    later.release(JOB, FAILED)
    assert earlier.claim(JOB, "run-d").outcome == FAILED


def test_an_interrupted_job_is_claimable_at_once(registry):
    first, second = pipeline(registry, "a"), pipeline(registry, "b")
    assert first.claim(JOB, "run-a").outcome == "claimed"
    first.release(JOB, INTERRUPTED)  # Ctrl-C: no need to wait for the lease
    assert second.claim(JOB, "run-b").outcome == "claimed"


def test_a_lapsed_claim_whose_model_was_recorded_counts_as_done(registry, tmp_path):
    first, second = pipeline(registry, "a", lease_s=0.2), pipeline(registry, "b", since=time.time() - 60)
    assert first.claim(JOB, "run-a").outcome == "claimed"
    start(registry, "run-a")
    with registry.engine.begin() as connection:  # killed after recording its model, before releasing the claim
        connection.execute(registry.models.update().values(status=DONE))
    time.sleep(0.3)
    verdict = second.claim(JOB, "run-b")
    assert (verdict.outcome, verdict.model_id) == (DONE, "run-a")
    assert registry.get("run-a").status == DONE and registry.find("run-b") is None
    assert RUNNING not in {r.status for r in registry.records()}


def test_a_claim_of_a_dead_process_on_this_host_is_taken_over_without_waiting(registry):
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    gone = pipeline(registry, "unused", lease_s=3600)
    gone.owner = f"{HOST}:{killed.pid}"  # a pipeline of this machine, killed (its re-run need not wait an hour)
    assert gone.claim(JOB, "run-a").outcome == "claimed"
    rerun = JobClaims(registry)
    assert rerun.claim(JOB, "run-c").outcome == "claimed"
