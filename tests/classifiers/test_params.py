"""Hyperparameter declarations: the estimators derive from them, and values are read and refused by them."""

from __future__ import annotations

import inspect

import pytest

from classifiers.errors import ConfigError
from classifiers.families.params import Param, hyperparams_of
from classifiers.registry import get_family, list_families


@pytest.mark.parametrize("info", list_families(), ids=lambda info: info.name)
def test_the_constructor_signature_and_stored_params_are_the_declaration(info) -> None:
    declared = hyperparams_of(info.estimator)
    assert declared is not None and declared.variants == info.variants
    signature = inspect.signature(info.estimator)
    assert {name: p.default for name, p in signature.parameters.items()} == {
        "variant": info.variants[0],
        **declared.defaults(),
    }
    estimator = info.estimator()
    assert estimator.get_params() == {"variant": info.variants[0], **declared.defaults()}
    estimator.check_params()  # the defaults are valid


def test_an_unknown_hyperparameter_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"'shallow' has no hyperparameter 'gama'; .* C, gamma, n_estimators"):
        get_family("shallow").create("svm", gama=0.1)


@pytest.mark.parametrize(
    ("family", "params", "message"),
    [
        ("shallow", {"n_estimators": 0}, "n_estimators must be an integer from 1 to 5000, got 0."),
        ("shallow", {"n_estimators": True}, "n_estimators must be an integer"),
        ("shallow", {"C": "abc"}, "C must be a number from 0.0001 to 10000, got 'abc'."),
        ("shallow", {"max_depth": None, "pca_components": 0}, "pca_components must be none or an integer from 1"),
        ("deep_v1", {"device": "tpu"}, "device must be one of 'auto', 'cpu', 'cuda', got 'tpu'."),
        ("deep_v2", {"lr": float("nan")}, "lr must be a number from 1e-06 to 10"),
    ],
)
def test_check_params_names_the_value_and_what_it_must_be(family, params, message) -> None:
    estimator = get_family(family).create(None, **params)
    assert {key: estimator.get_params()[key] for key in params} == params  # stored unchanged
    with pytest.raises(ConfigError) as error:
        estimator.check_params()
    assert message in str(error.value)


def test_texts_are_read_by_their_param() -> None:
    shallow = hyperparams_of(get_family("shallow").estimator)
    assert shallow["gamma"].parse("scale") == "scale" and shallow["gamma"].parse("0.01") == 0.01
    assert shallow["max_depth"].parse("none") is None and shallow["max_depth"].parse("12") == 12
    assert shallow["feature_size"].parse("48.0") == 48
    deep = hyperparams_of(get_family("deep_v1").estimator)
    assert deep["augment"].parse("false") is False and deep["lr"].parse("1e-3") == 0.001
    with pytest.raises(
        ConfigError, match=r"^--set max_depth=2.5: max_depth must be none or an integer from 1 to 200\.$"
    ):
        shallow["max_depth"].parse("2.5", "--set max_depth=2.5")
    with pytest.raises(ConfigError, match="augment must be true or false, got 'maybe'"):
        deep["augment"].parse("maybe")


def test_a_declaration_refusing_its_own_default_is_a_bug() -> None:
    with pytest.raises(ValueError, match="default 0 is not an integer from 1 to 5"):
        Param("blocks", "int", 0, "conv blocks", low=1, high=5)


@pytest.mark.parametrize(
    ("family", "run_settings"),
    [("deep_v1", {"workers", "device", "threads", "checkpoint", "resume"}), ("transfer", {"cache_dir", "threads"})],
)
def test_a_card_records_no_run_setting_of_the_training_machine(family: str, run_settings: set[str]) -> None:
    declared = hyperparams_of(get_family(family).estimator)
    values = {"variant": declared.variants[0], **declared.defaults()}
    recorded = declared.card_values(values)
    assert not run_settings & set(recorded)
    assert set(recorded) == set(values) - run_settings  # every other hyperparameter, the variant included
