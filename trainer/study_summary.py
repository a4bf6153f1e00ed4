"""What a tuning view shows about an Optuna study: its trials, the best so far and parameter importances.

Read from the study's storage while `trainer.tuning.tune` runs (the worker takes a snapshot after each trial),
or afterwards to reopen a finished study. Needs optuna, no Qt.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.tuning import open_storage

MIN_TRIALS_FOR_IMPORTANCE = 3


@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str  # COMPLETE, PRUNED, FAIL, RUNNING, WAITING
    value: float | None
    params: dict[str, Any]
    seconds: float | None
    note: str = ""  # e.g. the error of a failed trial


@dataclass
class StudySnapshot:
    """A study at one moment.

    Attributes:
        importances: parameter -> normalised importance from Optuna's default evaluator (they sum to 1),
            largest first; empty until MIN_TRIALS_FOR_IMPORTANCE trials completed with a parameter varying.
        importance_note: why importances are missing, when they are.
    """

    name: str
    trials: list[TrialRow] = field(default_factory=list)
    importances: dict[str, float] = field(default_factory=dict)
    importance_note: str = ""

    @property
    def completed(self) -> list[TrialRow]:
        return [t for t in self.trials if t.state == "COMPLETE" and t.value is not None]

    @property
    def best(self) -> TrialRow | None:
        done = self.completed
        return max(done, key=lambda t: (t.value, -t.number)) if done else None

    def count(self, state: str) -> int:
        return sum(t.state == state for t in self.trials)

    def best_so_far(self) -> list[tuple[int, float]]:
        """(trial number, best value up to and including it) for each completed trial, in trial order."""
        points, best = [], -math.inf
        for trial in sorted(self.completed, key=lambda t: t.number):
            best = max(best, float(trial.value or 0.0))
            points.append((trial.number, best))
        return points


def _seconds(trial: Any) -> float | None:
    if trial.datetime_complete and trial.datetime_start:
        return (trial.datetime_complete - trial.datetime_start).total_seconds()
    return None


def summarise_study(study: Any, *, with_importances: bool = True) -> StudySnapshot:
    """A snapshot of an optuna.Study (trials in number order)."""
    rows = [
        TrialRow(t.number, t.state.name, t.value, dict(t.params), _seconds(t), str(t.user_attrs.get("error", "")))
        for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    ]
    snapshot = StudySnapshot(study.study_name, rows)
    if with_importances:
        snapshot.importances, snapshot.importance_note = parameter_importances(study, snapshot)
    return snapshot


def parameter_importances(study: Any, snapshot: StudySnapshot) -> tuple[dict[str, float], str]:
    """Importances from Optuna's default evaluator (PED-ANOVA in Optuna 5), or ({}, why not)."""

    import optuna  # lazy: optuna

    completed = snapshot.completed
    if len(completed) < MIN_TRIALS_FOR_IMPORTANCE:
        return {}, (f"importances appear after {MIN_TRIALS_FOR_IMPORTANCE} completed trials ({len(completed)} so far)")
    varying = {
        name for trial in completed for name in trial.params if len({repr(t.params.get(name)) for t in completed}) > 1
    }
    if not varying:
        return {}, "no parameter has varied between completed trials yet"
    try:
        with warnings.catch_warnings():  # "quantiles select the same trials" with a handful of trials
            warnings.simplefilter("ignore", UserWarning)
            importances = optuna.importance.get_param_importances(study, params=sorted(varying))
    except (RuntimeError, ValueError) as exc:  # e.g. a search space that changed between trials
        return {}, f"importances unavailable: {exc}"
    return {name: float(value) for name, value in importances.items()}, ""


def load_snapshot(storage_path: str | Path, study_name: str) -> StudySnapshot:
    """Open a study in a tuning database and summarise it.

    Raises:
        KeyError: no study of that name in the database.
    """
    import optuna  # lazy: optuna

    study = optuna.load_study(study_name=study_name, storage=open_storage(storage_path))
    return summarise_study(study)


def study_names(storage_path: str | Path) -> list[str]:
    """The studies stored in a tuning database (none when the file does not exist yet)."""
    if not Path(storage_path).is_file():
        return []
    import optuna  # lazy: optuna

    return sorted(s.study_name for s in optuna.get_all_study_summaries(open_storage(storage_path)))
