"""One pipeline job in its own process: tune (optionally), train, export; output to the job's log file.

The parent starts `job_main` in a fresh spawned process per job, so a crash, an out-of-memory kill or a leaked
framework thread ends with that job. The worker never writes the registry: it sends ("progress", …) and
("outcome", …) messages, and the parent records them. It exits on its own if the parent dies.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from classifiers.errors import EyeVsAIError
from classifiers.progress import Progress, run_to_end
from classifiers.registry import get_family
from trainer.pipeline.plan import Job
from trainer.training import train_model
from trainer.tuning import tune
from trainer.workspace import Workspace

R = TypeVar("R")
SEND_EVERY_S = 0.3  # progress messages to the parent, at most this often per job (stage changes always go)
LOGGED_STAGES = ("prepare", "epoch", "phase", "trial", "export")  # every event of these gets a log line


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker process needs (pickled to it)."""

    job: Job
    model_id: str
    workspace_root: str
    models_dir: str
    log_path: str
    params: dict[str, Any]
    checkpoint: str | None = None
    trials: int = 20
    timeout: float | None = None
    seed: int = 0
    tuning_storage: str | None = None  # a SQLite file or a database URL (default: the workspace's tuning.db)


@dataclass
class JobOutcome:
    key: str
    ok: bool
    model_id: str
    seconds: float
    card: dict[str, Any] | None = None
    model_dir: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tuning: dict[str, Any] | None = None
    error: str | None = None


def job_main(spec: JobSpec, events: Any, parent_pid: int) -> None:
    """Process entry point: run the job with stdout/stderr in its log, report the outcome to the parent."""
    _exit_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    log = _redirect_output(Path(spec.log_path))
    reporter = _Reporter(spec.job.key, events, log)
    outcome = run_job(spec, reporter)
    log.write(
        f"=== {'finished' if outcome.ok else 'FAILED'} after {outcome.seconds:.1f} s"
        + (f": {outcome.error}" if outcome.error else "")
        + "\n"
    )
    log.flush()
    events.put(("outcome", spec.job.key, outcome))


def run_job(spec: JobSpec, reporter: _Reporter) -> JobOutcome:
    """Tune (if asked) and train one model; every error becomes a failed outcome with its message."""

    started = time.perf_counter()
    job = spec.job
    params: dict[str, Any] = dict(spec.params)
    tuning = None
    try:
        workspace = Workspace(Path(spec.workspace_root), tuning_url=spec.tuning_storage)
        pack = workspace.find_pack(job.pack_id)
        info = get_family(job.family)
        notes: dict[str, Any] = {}
        if job.tune:
            result = reporter.drive(
                tune(
                    info,
                    pack,
                    storage_path=workspace.tuning_storage,
                    trials=spec.trials,
                    timeout=spec.timeout,
                    variant=job.variant,
                    base_params=params,
                    seed=spec.seed,
                )
            )
            params, notes = result.params, result.notes()
            tuning = notes["tuning"]
        if spec.checkpoint:
            params |= _checkpoint_params(Path(spec.checkpoint), params, reporter)
        trained = reporter.drive(
            train_model(
                job.family,
                pack,
                spec.models_dir,
                variant=job.variant,
                params=params,
                model_id=spec.model_id,
                training_notes=notes,
                reassign=False,
            )
        )
        if spec.checkpoint:
            _forget_checkpoint(Path(spec.checkpoint))
    except Exception as exc:  # noqa: BLE001 - isolate the job: the pipeline goes on with the others
        reporter.log.write(traceback.format_exc())
        message = str(exc) if isinstance(exc, EyeVsAIError) else f"{type(exc).__name__}: {exc}"
        return JobOutcome(
            job.key, False, spec.model_id, time.perf_counter() - started, params=params, tuning=tuning, error=message
        )
    return JobOutcome(
        job.key,
        True,
        spec.model_id,
        time.perf_counter() - started,
        card=trained.card.to_json_obj(),
        model_dir=str(trained.model_dir),
        params=params,
        tuning=tuning,
    )


# -- checkpoints: an interrupted deep job resumes where it stopped, if its settings are the same ----------------
def _sidecar(checkpoint: Path) -> Path:
    return checkpoint.with_name(checkpoint.name + ".params.json")


def _checkpoint_params(checkpoint: Path, params: dict[str, Any], reporter: _Reporter) -> dict[str, Any]:
    settings = json.dumps(
        {k: v for k, v in params.items() if k not in ("checkpoint", "resume")}, sort_keys=True, default=str
    )
    sidecar = _sidecar(checkpoint)
    resume = None
    if checkpoint.is_file() and sidecar.is_file() and sidecar.read_text(encoding="utf-8") == settings:
        resume = str(checkpoint)
        reporter.note(f"resuming from checkpoint {checkpoint}")
    else:
        checkpoint.unlink(missing_ok=True)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    sidecar.write_text(settings, encoding="utf-8")
    return {"checkpoint": str(checkpoint), "resume": resume}


def _forget_checkpoint(checkpoint: Path) -> None:
    checkpoint.unlink(missing_ok=True)
    _sidecar(checkpoint).unlink(missing_ok=True)


# -- process plumbing -----------------------------------------------------------------------------------------
class _Reporter:
    """Sends a job's Progress events to the parent (throttled) and writes the milestones to its log."""

    def __init__(self, key: str, events: Any, log: TextIO) -> None:
        self.key, self.events, self.log = key, events, log
        self._sent_at, self._stage, self._logged_tenth = 0.0, "", -1

    def __call__(self, event: Progress) -> None:
        now = time.monotonic()
        changed = event.stage != self._stage
        if changed or event.stage in LOGGED_STAGES or now - self._sent_at >= SEND_EVERY_S:
            self.events.put(("progress", self.key, event))
            self._sent_at = now
        tenth = 10 * event.done // event.total if event.total else -1
        if changed or event.stage in LOGGED_STAGES or tenth != self._logged_tenth:
            metrics = "  ".join(f"{k} {v:.4g}" for k, v in event.metrics.items())
            self.log.write(
                f"{time.strftime('%H:%M:%S')} [{event.stage}] {event.done}/{event.total} "
                f"{event.message}{'  ' + metrics if metrics else ''}\n"
            )
            self.log.flush()
        self._stage, self._logged_tenth = event.stage, tenth

    def note(self, message: str) -> None:
        self(Progress("phase", 0, 0, message))

    def drive(self, work: Generator[Progress, None, R]) -> R:
        return run_to_end(work, self)


def _redirect_output(path: Path) -> TextIO:
    """Point this process's stdout and stderr (file descriptors too: native libraries write there) at the log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    log = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives as long as the process
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
            os.dup2(log.fileno(), stream.fileno())
        except (OSError, ValueError, AttributeError):  # no real descriptor (e.g. a GUI-started process)
            pass
    sys.stdout = sys.stderr = log
    log.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} process {os.getpid()}\n")
    return log


def _exit_with_parent(parent_pid: int) -> None:
    """Die with the pipeline process, even when it is killed without a chance to stop its workers."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes  # lazy: ctypes, Linux only

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass

    def watch() -> None:  # other platforms (and a parent that died before prctl)
        while True:
            if os.getppid() != parent_pid:
                os._exit(3)
            time.sleep(0.5)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
