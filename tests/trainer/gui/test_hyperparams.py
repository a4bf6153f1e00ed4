"""Hyperparameter forms derived from the families: defaults, kinds, help text, variant relevance."""

from __future__ import annotations

import pytest

from classifiers.registry import get_family, list_families
from trainer.hyperparams import ParamSpec, changed_params, coerce_text, family_params, parse_docstring_args


@pytest.mark.parametrize("info", list_families(), ids=lambda info: info.name)
def test_every_family_gets_a_form_whose_defaults_are_the_estimators(info) -> None:
    specs = family_params(info)
    assert specs, f"{info.name} has no editable hyperparameter"
    defaults = info.estimator(variant=info.variants[0]).get_params()
    for spec in specs:
        assert spec.default == defaults[spec.name]
        assert spec.kind in ("int", "float", "bool", "choice", "text")
        if spec.kind == "choice":
            assert spec.default in spec.choices
        if spec.minimum is not None and spec.default is not None and spec.kind in ("int", "float"):
            assert spec.minimum <= spec.default <= spec.maximum
    assert [s.is_main for s in specs] == sorted((s.is_main for s in specs), reverse=True)  # main ones first
    assert not {"variant", "checkpoint", "resume"} & {s.name for s in specs}


def test_deep_form_types_optional_values_and_help() -> None:
    specs = {s.name: s for s in family_params(get_family("deep_v1"))}
    assert specs["epochs"].kind == "int" and specs["epochs"].is_main
    assert specs["image_size"].optional and specs["image_size"].default is None
    assert specs["lr"].kind == "float" and specs["lr"].log
    assert specs["augment"].kind == "bool"
    assert specs["device"].choices == ("auto", "cpu", "cuda")
    assert specs["patience"].help.startswith("stop after this many epochs without a lower validation loss")


def test_shallow_parameters_apply_only_to_the_variants_that_read_them() -> None:
    specs = {s.name: s for s in family_params(get_family("shallow"))}
    assert specs["n_estimators"].applies_to("rf") and not specs["n_estimators"].applies_to("svm")
    assert specs["C"].applies_to("logreg") and not specs["C"].applies_to("rf")
    assert specs["feature_size"].applies_to("rf") and specs["feature_size"].applies_to("svm")
    assert specs["gamma"].kind == "text"  # "scale" or a float
    assert specs["n_estimators"].help == "RandomForest size."  # "a, b, c: text" documents all three


def test_docstring_args_parsing() -> None:
    doc = """Summary.

    Args:
        alpha: first line
            continued here.
        beta, gamma: shared.

    Returns:
        nothing: ignored.
    """
    assert parse_docstring_args(doc) == {"alpha": "first line continued here.", "beta": "shared.", "gamma": "shared."}
    assert parse_docstring_args("No args section.") == {}
    assert parse_docstring_args(None) == {}


def test_text_values_and_changes() -> None:
    optional = ParamSpec("feature_layer", "text", None, optional=True)
    assert coerce_text(optional, "  ") is None
    assert coerce_text(optional, "block5c_add") == "block5c_add"
    gamma = ParamSpec("gamma", "text", "scale")
    assert coerce_text(gamma, "0.01") == 0.01 and coerce_text(gamma, "3") == 3
    with pytest.raises(ValueError, match="gamma needs a value"):
        coerce_text(gamma, "")
    specs = family_params(get_family("shallow"))
    assert changed_params(specs, {"C": 1.0, "feature_size": 32, "unknown": 1}) == {"feature_size": 32}
