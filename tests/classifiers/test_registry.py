"""The family registry: stable names, a clear error for unknown ones, and no framework imports to list them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from classifiers import registry
from classifiers.errors import ConfigError, EyeVsAIError, MissingExtraError, UnknownFamilyError
from classifiers.registry import FamilyInfo, get_family, list_families, register_family


def test_list_families_contains_shallow() -> None:
    names = [info.name for info in list_families()]
    assert "shallow" in names
    assert len(names) == len(set(names))


def test_shallow_family_describes_itself() -> None:
    info = get_family("shallow")
    assert info.variants == ("svm", "rf", "logreg")
    assert info.extra == "shallow"
    assert "sklearn" in info.requires
    assert info.is_available  # the test environment has the training extras


@pytest.mark.parametrize("spelling", ["shallow", "Shallow", " SHALLOW "])
def test_family_names_are_normalised(spelling: str) -> None:
    assert get_family(spelling).name == "shallow"


def test_dash_and_underscore_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FAMILIES", dict(registry._FAMILIES))
    register_family("deep_test", title="t", extra="x", requires=(), variants=("a",))(type("Deep", (), {}))
    assert get_family("deep-test").name == "deep_test"


def test_unknown_family_lists_the_registered_ones() -> None:
    with pytest.raises(UnknownFamilyError, match=r"Unknown family 'resnet'; registered families: .*shallow") as info:
        get_family("resnet")
    assert isinstance(info.value, EyeVsAIError)


def test_unknown_variant_lists_the_variants() -> None:
    with pytest.raises(ConfigError, match=r"no variant 'xgboost'.*svm.*rf.*logreg"):
        get_family("shallow").create("xgboost")


def test_create_defaults_to_the_first_variant_and_stores_params_unchanged() -> None:
    estimator = get_family("shallow").create(C=0.5, n_estimators=7)
    assert estimator.variant == "svm"
    params = estimator.get_params()
    assert params["C"] == 0.5
    assert params["n_estimators"] == 7


def test_family_with_missing_framework_says_how_to_install_it() -> None:
    info = FamilyInfo("ghost", "Ghost", "ghost-extra", ("no_such_module_eyevsai",), ("v",), object)
    assert info.missing_modules() == ["no_such_module_eyevsai"]
    assert not info.is_available
    with pytest.raises(MissingExtraError, match="no_such_module_eyevsai, which is not installed.*ghost-extra"):
        info.create()


def test_registering_two_classes_under_one_name_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FAMILIES", dict(registry._FAMILIES))
    first, second = type("First", (), {}), type("Second", (), {})
    decorate = register_family("twice", title="t", extra="x", requires=(), variants=("a",))
    assert decorate(first) is first
    assert decorate(first) is first  # re-registering the same class (a module re-import) is fine
    with pytest.raises(ValueError, match="'twice' is registered twice"):
        decorate(second)


def test_listing_families_imports_no_training_framework() -> None:
    code = (
        "import sys; from classifiers.registry import list_families; "
        "names = [f.name for f in list_families()]; "
        "heavy = sorted(m for m in ('sklearn', 'skl2onnx', 'torch', 'tensorflow', 'keras') if m in sys.modules); "
        "print(names, heavy); assert 'shallow' in names and not heavy, heavy"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stdout + result.stderr
