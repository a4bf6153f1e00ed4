"""Hyperparameter tuning with Optuna: trials fit a family's estimator and score it on the pack's val split.

A study lives in the workspace's `tuning.db` (SQLite), or on a database URL (`--storage postgresql://...`), under a
name made of pack, family and variant, so running the same tuning again resumes it: `trials` is the study's total,
and only the missing trials run. A trial that was running in a process of this host that died is marked failed and
its parameters are tried again first. The same command started on several machines with one storage URL works on
one study: each asks Optuna for its next trial and stops once the study holds `trials` finished ones (so it may
end with a few more, one per machine at most).

Deep families report validation accuracy after every epoch (their "epoch" progress events); a trial whose
curve falls below the median of earlier trials at the same epoch is pruned (Optuna's MedianPruner). A shallow
fit has no intermediate score, so its trials always run to the end.

`tune` is a generator of Progress events (CLI bar, GUI worker, pipeline job) returning a TuneResult; the caller
re-trains the best parameters with `training.train_model` and records the model.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.errors import ConfigError, EyeVsAIError
from classifiers.families.base import load_split_images
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.registry import FamilyInfo, family_label
from trainer.model_registry import HOST, is_alive
from trainer.registry_database import engine_url, is_url, shown
from trainer.tuning_spaces import space_for

OBJECTIVE = "val_accuracy"
NOT_FOR_TRIALS = ("checkpoint", "resume")  # trials are short-lived: no checkpoints
MAX_FAILURES_IN_A_ROW = 3
UNCLAIMED_TRIAL_S = 300  # a running trial without a pid this old was left by a process killed right after asking
OPEN_ATTEMPTS = 3  # machines starting at once may race to create a new storage's tables: the loser tries again


class TuningError(EyeVsAIError):
    """No trial of a study could complete."""


@dataclass
class TuneResult:
    """The outcome of a tuning run: the study, its best trial, and the parameters to re-train with."""

    study_name: str
    storage: str
    variant: str
    params: dict[str, Any]  # the best trial's parameters with the caller's fixed ones
    best_value: float
    best_trial: int
    trials: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        states = [trial["state"] for trial in self.trials]
        return {state: states.count(state) for state in ("COMPLETE", "PRUNED", "FAIL")}

    def notes(self) -> dict[str, Any]:
        """What a model card records about the tuning that chose its parameters."""
        return {
            "tuning": {
                "study": self.study_name,
                "storage": self.storage,
                "objective": OBJECTIVE,
                "best_value": self.best_value,
                "best_trial": self.best_trial,
                **self.counts(),
            }
        }


def study_name(pack_id: str, family: str, variant: str | None = None) -> str:
    """Stable per pack, family (and variant, when it is fixed) so that re-running resumes the study."""
    return ".".join([pack_id, family] + ([variant] if variant else []))


def open_storage(location: str | Path) -> Any:
    """The Optuna RDB storage in a SQLite file, or on a database URL (created with its tables if missing)."""
    import optuna  # lazy: optuna
    import sqlalchemy as sa  # lazy: sqlalchemy, with optuna

    if is_url(location):
        url, options = engine_url(str(location)), {"pool_pre_ping": True}
    else:
        Path(location).parent.mkdir(parents=True, exist_ok=True)
        # several pipeline jobs may tune at once: wait for the SQLite lock rather than fail
        url, options = f"sqlite:///{Path(location).resolve()}", {"connect_args": {"timeout": 60}}
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=options)
        except sa.exc.SQLAlchemyError:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            time.sleep(0.5 + attempt)


def _retry_stale_trials(study: Any, storage: Any, name: str) -> int:
    """Fail RUNNING trials of this host whose process is gone (killed mid-trial) and queue their parameters again.

    Another machine's trial is left alone: its pid means nothing here (it does not count as finished anyway)."""
    from optuna.trial import TrialState  # lazy: optuna

    retried = 0
    study_id = storage.get_study_id_from_name(name)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial.user_attrs.get("host", HOST) != HOST or is_alive(trial.user_attrs.get("pid")):
            continue
        if "pid" not in trial.user_attrs and _age_s(trial) < UNCLAIMED_TRIAL_S:
            continue  # another process asked for it a moment ago and is about to write its pid
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        retried += 1
    return retried


def tune(
    info: FamilyInfo,
    pack: Pack,
    *,
    storage_path: str | Path,  # a SQLite file or a database URL
    trials: int,
    timeout: float | None = None,
    variant: str | None = None,
    base_params: dict[str, Any] | None = None,
    seed: int = 0,
) -> Generator[Progress, None, TuneResult]:
    """Run the study for `info` on `pack` until it holds `trials` finished (complete or pruned) trials.

    Args:
        variant: tune this variant; None tunes the variant too, as a categorical parameter.
        base_params: fixed keyword arguments of every trial (e.g. epochs); a parameter fixed here is not tuned
            even when the search space has it.
        timeout: start no new trial after this many seconds (a running trial finishes).

    Raises:
        ConfigError: bad arguments, or a pack without a val split.
        TuningError: no trial completed.
    """
    import optuna  # lazy: optuna
    from optuna.trial import TrialState  # lazy: optuna

    _check_arguments(info, pack, trials, variant)
    name = study_name(pack.id, info.name, variant)
    study, retried = _open_study(storage_path, name, seed)
    if retried:
        yield Progress("trial", 0, trials, f"{retried} interrupted trial(s) of study {name} will be re-run")
    base = {k: v for k, v in (base_params or {}).items() if k not in NOT_FOR_TRIALS}
    space = space_for(info)
    val_images, val_labels = load_split_images(pack, "val")
    started, failures = time.monotonic(), 0
    while (finished := _count(study, TrialState.COMPLETE, TrialState.PRUNED)) < trials:
        if timeout is not None and time.monotonic() - started >= timeout:
            yield Progress("trial", finished, trials, f"timeout of {timeout:g} s reached; stopping")
            break
        trial = study.ask()
        trial.set_user_attr("pid", os.getpid())
        trial.set_user_attr("host", HOST)
        yield Progress("trial", finished, trials, f"trial {trial.number} of study {name}", _best(study))
        try:
            value = yield from _run_trial(trial, info, pack, space, variant, base, val_images, val_labels)
        except optuna.TrialPruned:
            study.tell(trial, state=TrialState.PRUNED)
            continue
        except (EyeVsAIError, ValueError, RuntimeError, MemoryError) as exc:
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}")
            study.tell(trial, state=TrialState.FAIL)
            failures += 1
            if failures >= MAX_FAILURES_IN_A_ROW:
                raise TuningError(
                    f"{failures} trials in a row of study {name} failed; the last with {type(exc).__name__}: {exc}"
                ) from exc
            continue
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)  # interrupted: the trial does not count
            raise
        failures = 0
        study.tell(trial, value)
    finished = _count(study, TrialState.COMPLETE, TrialState.PRUNED)
    yield Progress("trial", finished, max(trials, finished), f"study {name}: {finished} trial(s)", _best(study))
    return _result(study, name, storage_path, info, variant, base_params or {})


def _age_s(trial: Any) -> float:
    started = trial.datetime_start
    return (datetime.now() - started).total_seconds() if started else float("inf")


def _check_arguments(info: FamilyInfo, pack: Pack, trials: int, variant: str | None) -> None:
    if trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {trials}.")
    if not pack.splits["val"]:
        raise ConfigError(
            f"Pack '{pack.id}' has no val split; tuning scores trials on it (never on test). "
            "Rebuild the pack with --val 0.1."
        )
    if variant is not None and variant not in info.variants:
        raise ConfigError(
            f"Family '{family_label(info.name)}' has no variant {variant!r}; choose one of {info.variants}."
        )


def _open_study(storage_path: str | Path, name: str, seed: int) -> tuple[Any, int]:
    """Create or load the study, fail and re-queue trials of dead processes; return it and how many were."""
    import optuna  # lazy: optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(storage_path)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    study = optuna.create_study(
        storage=storage, study_name=name, direction="maximize", load_if_exists=True, pruner=pruner
    )
    retried = _retry_stale_trials(study, storage, name)
    # a fresh seed per resumption: the same seed would propose the first trials' parameters again
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials), n_startup_trials=5)
    return study, retried


def _run_trial(
    trial: Any,
    info: FamilyInfo,
    pack: Pack,
    space: Any,
    variant: str | None,
    base: dict[str, Any],
    val_images: list[np.ndarray],
    val_labels: np.ndarray,
) -> Generator[Progress, None, float]:
    """Fit one trial's estimator, reporting per-epoch validation accuracy for pruning; return val accuracy."""
    import optuna  # lazy: optuna

    chosen = variant or trial.suggest_categorical("variant", list(info.variants))
    params = {**space(PinnedTrial(trial, base), chosen), **base}
    estimator = info.create(chosen, **params)
    step = 0
    for event in estimator.fit(pack):
        if event.stage == "epoch" and "val_accuracy" in event.metrics:
            step += 1  # counted here: a two-phase family (transfer) numbers each phase's epochs from 1
            trial.report(float(event.metrics["val_accuracy"]), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        yield event
    yield Progress("evaluate", 0, 1, f"trial {trial.number}: scoring on {len(val_images)} val images")
    probabilities = estimator.predict_proba(val_images)
    accuracy = float((np.asarray(probabilities).argmax(1) == val_labels).mean())
    yield Progress("evaluate", 1, 1, f"trial {trial.number}: val accuracy {accuracy:.4f}")
    return accuracy


class PinnedTrial:
    """A trial whose suggestions for the caller's fixed parameters return the fixed value (and are not recorded,
    so a study lists only what it really tuned)."""

    def __init__(self, trial: Any, pinned: dict[str, Any]) -> None:
        self._trial, self._pinned = trial, pinned

    def _suggest(self, kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
        if name in self._pinned:
            return self._pinned[name]
        return getattr(self._trial, kind)(name, *args, **kwargs)

    def suggest_float(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._suggest("suggest_float", name, *args, **kwargs)

    def suggest_int(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._suggest("suggest_int", name, *args, **kwargs)

    def suggest_categorical(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._suggest("suggest_categorical", name, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trial, name)


def _count(study: Any, *states: Any) -> int:
    return len(study.get_trials(deepcopy=False, states=states))


def _best(study: Any) -> dict[str, float]:
    from optuna.trial import TrialState  # lazy: optuna

    values = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    return {"best": max(values)} if values else {}


def _result(
    study: Any, name: str, storage_path: str | Path, info: FamilyInfo, variant: str | None, base_params: dict[str, Any]
) -> TuneResult:
    from optuna.trial import TrialState  # lazy: optuna

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise TuningError(f"Study {name} has no completed trial yet; run more trials (--trials) or a longer --timeout.")
    best = max(complete, key=lambda t: (t.value, -t.number))
    best_params = dict(best.params)
    chosen = variant or best_params.pop("variant")
    # the space's return value, not best.params alone: a space may map a suggestion onto several arguments
    params = {**_replay_space(info, chosen, best_params, base_params), **base_params}
    trials = [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": t.params,
            "seconds": (t.datetime_complete - t.datetime_start).total_seconds()
            if t.datetime_complete and t.datetime_start
            else None,
        }
        for t in study.get_trials(deepcopy=False)
    ]
    return TuneResult(name, shown(storage_path), chosen, params, float(best.value), best.number, trials)


def _replay_space(info: FamilyInfo, variant: str, params: dict[str, Any], pinned: dict[str, Any]) -> dict[str, Any]:
    """Re-run the space with a fixed trial so the best parameters come out as estimator keyword arguments."""
    import optuna  # lazy: optuna

    fixed = optuna.trial.FixedTrial({**params, "variant": variant})
    return space_for(info)(PinnedTrial(fixed, pinned), variant)
