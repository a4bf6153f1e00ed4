"""Hyperparameter search spaces for Optuna, derived from the families' declarations.

A space is a function `(trial, variant) -> params` suggesting the family's keyword arguments. A family's space
comes from its declared Params' tuning ranges (`Param.tune`, in `classifiers/families/`); the Optuna calls stay
here. A family without tuning ranges can declare its own as a static method `search_space(trial, variant)` on its
estimator class; failing that, `generic_space` tunes the usual float hyperparameters it finds (learning rate,
weight decay, dropout, C) around their defaults, so a newly registered family is tunable from the day it lands.

Ranges are meant for images of a few dozen pixels and packs of a few thousand images: wide enough to find a
better model than the defaults in 20-50 trials, narrow enough that no trial is hopeless.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from classifiers.errors import ConfigError
from classifiers.families.params import Hyperparams, Param, Tune, hyperparams_of
from classifiers.registry import FamilyInfo, family_label

Space = Callable[[Any, str], dict[str, Any]]


def suggest(trial: Any, param: Param, tune: Tune) -> Any:
    """One Optuna suggestion for `param` over its tuning range."""
    if tune.choices:
        return trial.suggest_categorical(param.name, list(tune.choices))
    if param.kind == "int":
        return trial.suggest_int(param.name, int(tune.low), int(tune.high), step=tune.step or 1)
    return trial.suggest_float(param.name, tune.low, tune.high, log=tune.log)


def declared_space(declared: Hyperparams) -> Space | None:
    """The space over every declared Param with a tuning range (those the variant reads), or None if none has."""
    if not any(param.tune is not None for param in declared):
        return None

    def space(trial: Any, variant: str) -> dict[str, Any]:
        params = {}
        for param in declared:
            tune = param.tuning(variant)
            if tune is not None:
                params[param.name] = suggest(trial, param, tune)
        return params

    return space


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

    declared_params = hyperparams_of(info.estimator)
    space = declared_space(declared_params) if declared_params is not None else None
    if space is not None:
        return space
    declared = getattr(info.estimator, "search_space", None)
    if callable(declared):
        return declared
    space = generic_space(estimator_defaults(info))
    if space is None:
        raise ConfigError(
            f"Family '{family_label(info.name)}' has no hyperparameter search space. Declare a static method "
            "`search_space(trial, variant)` on its estimator, or give its Params tuning ranges (`Param.tune`)."
        )
    return space
