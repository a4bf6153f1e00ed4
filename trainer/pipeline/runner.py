"""Running a plan: up to N jobs at once, each in a fresh spawned process, recorded in the model registry.

The parent is the registry's only writer while the pipeline runs: a job is `running` from the moment its process
starts and `done` once its model folder is in place and the row says so (one transaction). Killed at any moment,
the registry holds finished models as done and the rest as running rows of a dead process, which the next run's
`reconcile` turns into interrupted ones; re-running the same command then skips the finished jobs.

Before starting a job the parent claims it in the registry (`trainer.pipeline.claims`) and renews the claim while
the job runs, so several pipelines on one registry (several machines on a PostgreSQL URL) share the plan: a job
another pipeline holds waits until that one ends it (then it is reported, not re-run) or stops renewing (then it
is taken over and run here).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import shutil
import time
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.card import ModelCard
from classifiers.progress import Progress
from classifiers.registry import get_family
from trainer.model_registry import DONE, FAILED, INTERRUPTED, ModelRegistry
from trainer.pipeline.claims import DEFAULT_LEASE_S, JobClaims, Verdict
from trainer.pipeline.plan import Job, PlanEntry
from trainer.pipeline.worker import JobOutcome, JobSpec, job_main
from trainer.training import default_model_id
from trainer.tuning import open_storage
from trainer.tuning_spaces import estimator_defaults
from trainer.workspace import Workspace

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LOKY_MAX_CPU_COUNT")
PIPELINE_DEFAULTS = {"workers": 0}  # a job is already a process: no DataLoader processes on top by default


@dataclass
class PipelineOptions:
    jobs: int = 1
    trials: int = 20
    timeout: float | None = None  # per tuning job
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # family (or "*") → fixed keyword arguments
    seed: int = 0
    threads: int | None = None  # math threads per job (default: the CPU count shared among the jobs)
    lease_s: float = DEFAULT_LEASE_S  # a job whose pipeline stopped renewing its claim this long is taken over

    @property
    def renew_every_s(self) -> float:
        """How often running jobs' claims are renewed, and held jobs asked for again."""
        return max(0.5, min(10.0, self.lease_s / 4))


@dataclass
class JobReport:
    """How one job ended, for the summary table."""

    job: Job
    status: str  # done | skipped | failed | interrupted
    model_id: str | None = None
    test_accuracy: float | None = None
    difficulty: str | None = None
    seconds: float | None = None
    log_path: str | None = None
    error: str | None = None
    tuning: dict[str, Any] | None = None
    note: str | None = None  # e.g. which pipeline ran it, when another one did

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job.key,
            "pack": self.job.pack_id,
            "family": self.job.family,
            "variant": self.job.variant,
            "tuned": self.job.tune,
            "status": self.status,
            "model_id": self.model_id,
            "test_accuracy": self.test_accuracy,
            "difficulty": self.difficulty,
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "log": self.log_path,
            "error": self.error,
            "tuning": self.tuning,
            "note": self.note,
        }


@dataclass(frozen=True)
class PipelineEvent:
    """started / progress / ended, for a display."""

    kind: str
    job: Job
    progress: Progress | None = None
    report: JobReport | None = None


def job_params(job: Job, options: PipelineOptions) -> dict[str, Any]:
    """The fixed keyword arguments of a job: pipeline defaults and --set values its family accepts."""
    accepted = estimator_defaults(get_family(job.family))
    chosen = {**PIPELINE_DEFAULTS, **options.params.get("*", {}), **options.params.get(job.family, {})}
    return {name: value for name, value in chosen.items() if name in accepted}


@dataclass
class _Running:
    process: Any
    spec: JobSpec
    outcome: JobOutcome | None = None
    lost: str | None = None  # why this pipeline no longer holds the job's claim


class PipelineRunner:
    """Runs the `run` entries of a plan; `run()` is a generator of PipelineEvents returning every JobReport."""

    def __init__(
        self,
        entries: Sequence[PlanEntry],
        workspace: Workspace,
        registry: ModelRegistry,
        options: PipelineOptions,
        *,
        since: float | None = None,
    ) -> None:
        """since: when this pipeline started (unix time); a job another pipeline ended after it is not re-run."""
        self.entries, self.workspace, self.registry, self.options = list(entries), workspace, registry, options
        self.claims = JobClaims(registry, lease_s=options.lease_s, since=since)
        self._retry_at: dict[str, float] = {}
        self.reports: dict[str, JobReport] = {}
        self.context = multiprocessing.get_context("spawn")
        self.events = self.context.Queue()

    def run(self) -> Generator[PipelineEvent, None, list[JobReport]]:
        for entry in self.entries:
            if not entry.run:
                self.reports[entry.job.key] = JobReport(entry.job, "skipped", entry.model_id)
        if any(e.run and e.job.tune for e in self.entries):
            open_storage(self.workspace.tuning_storage).remove_session()  # tables made once, before the workers
        pending = deque(e.job for e in self.entries if e.run)
        running: dict[str, _Running] = {}
        renewed = time.monotonic()
        try:
            while pending or running:
                yield from self._start_claimable(pending, running)
                yield from self._drain(running, wait=0.2)
                if time.monotonic() - renewed >= self.options.renew_every_s:
                    self._renew(running)
                    renewed = time.monotonic()
                for key in [k for k, r in running.items() if not r.process.is_alive()]:
                    yield from self._drain(running, wait=0)  # its last messages arrive before it exits
                    yield self._end(running.pop(key))
        except BaseException:
            self._stop(running)
            raise
        for pack_id in {e.job.pack_id for e in self.entries}:
            self.registry.refresh_difficulties(pack_id)
        return [self._final(self.reports[e.job.key]) for e in self.entries]

    # -- steps ------------------------------------------------------------------------------------------------
    def _start_claimable(self, pending: deque[Job], running: dict[str, _Running]) -> Iterator[PipelineEvent]:
        """Claim and start pending jobs while there is room; report those another pipeline ended."""
        now = time.monotonic()
        for job in list(pending):
            if len(running) >= max(1, self.options.jobs):
                return
            if self._retry_at.get(job.key, 0.0) > now:
                continue
            spec = self._spec(job)
            verdict = self.claims.claim(job, spec.model_id)
            if verdict.outcome == "held":
                self._retry_at[job.key] = now + self.options.renew_every_s
                continue
            pending.remove(job)
            if verdict.outcome != "claimed":
                report = self._ended_elsewhere(job, verdict)
                self.reports[job.key] = report
                yield PipelineEvent("ended", job, report=report)
                continue
            if verdict.model_id:  # taken over from a pipeline that stopped: its half-written folder goes
                shutil.rmtree(Path(spec.models_dir) / f"{verdict.model_id}.partial", ignore_errors=True)
            running[job.key] = self._start(spec)
            yield PipelineEvent("started", job)

    def _ended_elsewhere(self, job: Job, verdict: Verdict) -> JobReport:
        record = self.registry.find(verdict.model_id) if verdict.model_id else None
        log_path = record.log_path if record else None
        note = f"run by the pipeline {verdict.owner}"
        if verdict.outcome == DONE:
            return JobReport(job, "skipped", verdict.model_id, log_path=log_path, note=note)
        error = (record.error if record else None) or "failed"
        return JobReport(job, FAILED, verdict.model_id, log_path=log_path, error=f"{error} ({note})", note=note)

    def _renew(self, running: dict[str, _Running]) -> None:
        """Renew the claims of the running jobs; stop a job whose claim another pipeline took over meanwhile."""
        for key in self.claims.renew([key for key, item in running.items() if item.lost is None]):
            item = running[key]
            item.lost = "its claim lapsed (this pipeline stalled longer than the lease) and another pipeline took it"
            item.process.terminate()

    def _spec(self, job: Job) -> JobSpec:
        model_id = default_model_id(job.pack_id, job.family, job.variant)
        suffix = 2
        while self.registry.find(model_id) is not None:  # a re-run within the same second
            model_id = f"{default_model_id(job.pack_id, job.family, job.variant)}-{suffix}"
            suffix += 1
        params = job_params(job, self.options)
        has_checkpoints = "checkpoint" in estimator_defaults(get_family(job.family))
        checkpoint = self.workspace.checkpoints_dir / f"{job.slug}.pt" if has_checkpoints else None
        return JobSpec(
            job,
            model_id,
            str(self.workspace.root),
            str(self.workspace.models_dir),
            str(self.workspace.logs_dir / "pipeline" / f"{model_id}.log"),
            params,
            str(checkpoint) if checkpoint else None,
            self.options.trials,
            self.options.timeout,
            self.options.seed,
            str(self.workspace.tuning_storage),
        )

    def _start(self, spec: JobSpec) -> _Running:
        process = self.context.Process(
            target=job_main, args=(spec, self.events, os.getpid()), name=f"eyevsai-job-{spec.job.slug}", daemon=False
        )
        with _thread_limits(self._threads()):  # read by the math libraries when the child imports them
            process.start()
        job = spec.job
        self.registry.begin(
            spec.model_id,
            family=job.family,
            variant=job.variant,
            pack_id=job.pack_id,
            config={"params": spec.params},
            model_dir=Path(spec.models_dir) / spec.model_id,
            job=job.key,
            tuned=job.tune,
            log_path=spec.log_path,
            checkpoint=spec.checkpoint,
            pid=process.pid,
            owner_pid=os.getpid(),
        )
        return _Running(process, spec)

    def _threads(self) -> int:
        return self.options.threads or max(1, (os.cpu_count() or 1) // max(1, self.options.jobs))

    def _drain(self, running: dict[str, _Running], wait: float) -> Iterator[PipelineEvent]:
        deadline = time.monotonic() + wait
        while True:
            try:
                kind, key, payload = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return
            if key not in running:
                continue
            if kind == "outcome":
                running[key].outcome = payload
            else:
                yield PipelineEvent("progress", running[key].spec.job, progress=payload)

    def _end(self, item: _Running) -> PipelineEvent:
        item.process.join()
        spec, outcome = item.spec, item.outcome
        if item.lost is not None:
            self.registry.fail(spec.model_id, f"interrupted: {item.lost}", status=INTERRUPTED)
            report = JobReport(spec.job, INTERRUPTED, spec.model_id, log_path=spec.log_path, error=item.lost)
            self.reports[spec.job.key] = report
            return PipelineEvent("ended", spec.job, report=report)
        if outcome is not None and outcome.ok and outcome.card is not None:
            card = ModelCard.from_json_obj(outcome.card, source=f"model card of {spec.model_id}")
            self.registry.finish(
                card,
                outcome.model_dir or "",
                seconds=outcome.seconds,
                config={"params": outcome.params, "tuning": outcome.tuning},
            )
            self.registry.refresh_difficulties(spec.job.pack_id)
            self.claims.release(spec.job, DONE)
            report = JobReport(
                spec.job, DONE, card.id, card.test_accuracy, None, outcome.seconds, spec.log_path, tuning=outcome.tuning
            )
        else:
            error = (
                outcome.error
                if outcome is not None
                else (
                    f"the job's process exited with code {item.process.exitcode} before reporting (crashed or killed)"
                )
            )
            self.registry.fail(spec.model_id, error or "failed")
            self.claims.release(spec.job, FAILED)
            shutil.rmtree(Path(spec.models_dir) / f"{spec.model_id}.partial", ignore_errors=True)
            report = JobReport(
                spec.job,
                FAILED,
                spec.model_id,
                seconds=outcome.seconds if outcome else None,
                log_path=spec.log_path,
                error=error,
                tuning=outcome.tuning if outcome else None,
            )
        self.reports[spec.job.key] = report
        return PipelineEvent("ended", spec.job, report=report)

    def _stop(self, running: dict[str, _Running]) -> None:
        """Interrupted (Ctrl-C, or the display closed): stop the jobs and record them as interrupted."""
        for item in running.values():
            item.process.terminate()
        for item in running.values():
            item.process.join(10)
            if item.process.is_alive():
                item.process.kill()
                item.process.join()
            self.registry.fail(item.spec.model_id, "interrupted: the pipeline was stopped", status=INTERRUPTED)
            self.claims.release(item.spec.job, INTERRUPTED)  # claimable again at once
            shutil.rmtree(Path(item.spec.models_dir) / f"{item.spec.model_id}.partial", ignore_errors=True)

    def _final(self, report: JobReport) -> JobReport:
        """The report with what the registry knows now (difficulty is ranked after all jobs)."""
        if report.model_id and report.status in (DONE, "skipped"):
            record = self.registry.find(report.model_id)
            if record is not None:
                report.test_accuracy, report.difficulty = record.test_accuracy, record.difficulty
                report.seconds = report.seconds if report.seconds is not None else record.seconds
                report.tuning = report.tuning or record.config.get("tuning")
                report.log_path = report.log_path or record.log_path
        return report


@contextlib.contextmanager
def _thread_limits(threads: int) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in THREAD_ENV}
    os.environ.update({name: str(threads) for name in THREAD_ENV if name not in os.environ or saved[name] is None})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
