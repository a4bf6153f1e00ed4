"""The GUI's hyperparameter list: every family's declared Params, main ones first, in-form ones only."""

from __future__ import annotations

import pytest

from classifiers.families.params import hyperparams_of
from classifiers.registry import get_family, list_families
from trainer.hyperparams import family_params, variant_help


@pytest.mark.parametrize("info", list_families(), ids=lambda info: info.name)
def test_every_family_gets_a_form_of_its_declared_params_at_the_estimators_defaults(info) -> None:
    params = family_params(info)
    declared = hyperparams_of(info.estimator)
    assert {p.name for p in params} == {p.name for p in declared if p.in_form}
    defaults = info.estimator(variant=info.variants[0]).get_params()
    for param in params:
        assert param.default == defaults[param.name]
        assert param.help
    assert [p.is_main for p in params] == sorted((p.is_main for p in params), reverse=True)  # main ones first
    assert not {"variant", "checkpoint", "resume"} & {p.name for p in params}
    assert variant_help(info)


def test_deep_form_types_optional_values_and_help() -> None:
    params = {p.name: p for p in family_params(get_family("deep_v1"))}
    assert params["epochs"].kind == "int" and params["epochs"].is_main
    assert params["image_size"].optional and params["image_size"].default is None
    assert params["lr"].kind == "float" and params["lr"].log
    assert params["augment"].kind == "bool"
    assert params["device"].choices == ("auto", "cpu", "cuda")
    assert params["patience"].help.startswith("stop after this many epochs without a lower validation loss")


def test_shallow_parameters_apply_only_to_the_variants_that_read_them() -> None:
    params = {p.name: p for p in family_params(get_family("shallow"))}
    assert params["n_estimators"].applies_to("rf") and not params["n_estimators"].applies_to("svm")
    assert params["C"].applies_to("logreg") and not params["C"].applies_to("rf")
    assert params["feature_size"].applies_to("rf") and params["feature_size"].applies_to("svm")
    assert params["gamma"].words == ("scale", "auto")  # "scale" or a number
    assert {"gamma", "min_samples_leaf"} <= set(params)
