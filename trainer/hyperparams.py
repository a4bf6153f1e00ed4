"""A family's hyperparameters as the trainer GUI's form shows them: its declared Params, main ones first.

Everything about a hyperparameter (type, default, bounds or choices, help, which variants read it) is declared
once in the family (`classifiers.families.params`); this module only picks and orders what the form offers.
"""

from __future__ import annotations

from classifiers.families.params import Param, hyperparams_of
from classifiers.registry import FamilyInfo


def family_params(info: FamilyInfo) -> list[Param]:
    """The Params the form offers, main ones first, each group in declaration order (none if undeclared)."""
    declared = hyperparams_of(info.estimator)
    if declared is None:
        return []
    return sorted((param for param in declared if param.in_form), key=lambda param: not param.is_main)


def variant_help(info: FamilyInfo) -> str:
    """What each of the family's variants means."""
    declared = hyperparams_of(info.estimator)
    return declared.variant_help if declared is not None else ""
