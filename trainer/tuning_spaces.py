"""Hyperparameter search spaces for Optuna, one per classifier family.

A space is a function `(trial, variant) -> params` suggesting the family's keyword arguments. A family not listed
here can declare its own as a static method `search_space(trial, variant)` on its estimator class; failing that,
`generic_space` tunes the usual float hyperparameters it finds (learning rate, weight decay, dropout, C) around
their defaults, so a newly registered family is tunable from the day it lands.

Ranges are meant for images of a few dozen pixels and packs of a few thousand images: wide enough to find a
better model than the defaults in 20-50 trials, narrow enough that no trial is hopeless.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from classifiers.errors import ConfigError
from classifiers.registry import FamilyInfo

Space = Callable[[Any, str], dict[str, Any]]


def shallow_space(trial: Any, variant: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "feature_size": trial.suggest_categorical("feature_size", [32, 48, 64]),
        "pca_components": trial.suggest_categorical("pca_components", [None, 64, 128, 256]),
    }
    if variant == "svm":
        params["C"] = trial.suggest_float("C", 0.1, 100.0, log=True)
        params["gamma"] = trial.suggest_categorical("gamma", ["scale", 1e-3, 3e-3, 1e-2])
    elif variant == "logreg":
        params["C"] = trial.suggest_float("C", 1e-3, 10.0, log=True)
    else:  # rf
        params["n_estimators"] = trial.suggest_int("n_estimators", 100, 500, step=50)
        params["max_depth"] = trial.suggest_categorical("max_depth", [8, 12, 16, 24, None])
        params["min_samples_leaf"] = trial.suggest_int("min_samples_leaf", 1, 4)
    return params


def _deep_common(trial: Any) -> dict[str, Any]:
    return {
        "lr": trial.suggest_float("lr", 3e-4, 1e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-5, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "width": trial.suggest_categorical("width", [16, 24, 32, 48]),
    }


def deep_v1_space(trial: Any, variant: str) -> dict[str, Any]:
    return {
        **_deep_common(trial),
        "blocks": trial.suggest_int("blocks", 2, 4),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "augment": trial.suggest_categorical("augment", [True, False]),
    }


def deep_v2_space(trial: Any, variant: str) -> dict[str, Any]:
    return {
        **_deep_common(trial),
        "depth": trial.suggest_int("depth", 1, 2),
        "dropout": trial.suggest_float("dropout", 0.0, 0.4),
        "crop_scale": trial.suggest_float("crop_scale", 0.6, 1.0),
        "mixup_alpha": trial.suggest_categorical("mixup_alpha", [0.0, 0.2, 0.4]),
        "label_smoothing": trial.suggest_float("label_smoothing", 0.0, 0.15),
        "schedule": trial.suggest_categorical("schedule", ["cosine", "onecycle"]),
    }


SPACES: dict[str, Space] = {"shallow": shallow_space, "deep_v1": deep_v1_space, "deep_v2": deep_v2_space}

# name → (low factor, high factor, log scale, absolute bounds) around the default value
_GENERIC = {
    "lr": (0.2, 5.0, True, (1e-6, 1.0)),
    "learning_rate": (0.2, 5.0, True, (1e-6, 1.0)),
    "fine_tune_lr": (0.2, 5.0, True, (1e-7, 1.0)),
    "weight_decay": (0.1, 10.0, True, (1e-7, 0.1)),
    "C": (0.1, 10.0, True, (1e-4, 1e4)),
    "dropout": (0.0, 2.0, False, (0.0, 0.6)),
    "label_smoothing": (0.0, 2.0, False, (0.0, 0.2)),
}


def generic_space(defaults: dict[str, Any]) -> Space | None:
    """A space over the float hyperparameters in `_GENERIC` found among an estimator's defaults, or None."""
    tunable = {
        name: value
        for name, value in defaults.items()
        if name in _GENERIC and isinstance(value, float) and not isinstance(value, bool)
    }
    if not tunable:
        return None

    def space(trial: Any, variant: str) -> dict[str, Any]:
        params = {}
        for name, default in tunable.items():
            low_factor, high_factor, log, (lowest, highest) = _GENERIC[name]
            low = max(lowest, default * low_factor) if default > 0 else lowest
            high = min(highest, default * high_factor) if default > 0 else highest
            if log and low <= 0:
                low = lowest
            params[name] = trial.suggest_float(name, low, max(high, low * 1.0001), log=log)
        return params

    return space


def estimator_defaults(info: FamilyInfo) -> dict[str, Any]:
    """Keyword-argument defaults of a family's estimator, read from its signature (imports no framework)."""
    signature = inspect.signature(info.estimator)
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty and name != "variant"
    }


def space_for(info: FamilyInfo) -> Space:
    """The search space of a family.

    Raises:
        ConfigError: the family declares no space and has no hyperparameter the generic space knows.
    """

    if info.name in SPACES:
        return SPACES[info.name]
    declared = getattr(info.estimator, "search_space", None)
    if callable(declared):
        return declared
    space = generic_space(estimator_defaults(info))
    if space is None:
        raise ConfigError(
            f"Family '{info.name}' has no hyperparameter search space. Declare a static method "
            "`search_space(trial, variant)` on its estimator, or add one to trainer/tuning_spaces.py."
        )
    return space
