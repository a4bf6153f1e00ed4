"""Planning the train-all pipeline: family/variant selection, packs, --set values and which jobs are done."""

from __future__ import annotations

import pytest

from classifiers.errors import ConfigError, UnknownFamilyError
from classifiers.families.params import hyperparams_of
from classifiers.registry import get_family
from trainer.pipeline.plan import Job, parse_families, parse_packs, parse_settings, plan_jobs, summary_counts

KNOWN = {"shallow": ("svm", "rf", "logreg"), "deep_v1": ("cnn",), "deep_v2": ("cbam", "se")}


def test_a_family_alone_means_all_its_variants_and_duplicates_collapse():
    assert parse_families(["shallow/rf, deep-v1", "shallow"], KNOWN) == [
        ("shallow", "rf"),
        ("deep_v1", "cnn"),
        ("shallow", "svm"),
        ("shallow", "logreg"),
    ]


@pytest.mark.parametrize(
    ("specs", "error", "fragment"),
    [
        (["boosting"], UnknownFamilyError, "registered families: shallow, deep-v1, deep-v2"),
        (["shallow/knn"], ConfigError, "no variant 'knn'"),
        ([" , "], ConfigError, "No family selected"),
    ],
)
def test_bad_family_selections_name_the_problem(specs, error, fragment):
    with pytest.raises(error, match=fragment):
        parse_families(specs, KNOWN)


def test_packs_keep_their_order_without_duplicates():
    assert parse_packs(["b,a", "b", "c"]) == ["b", "a", "c"]
    with pytest.raises(ConfigError, match="No pack selected"):
        parse_packs([""])


def test_settings_are_json_values_per_family_or_for_all():
    settings = parse_settings(
        ["epochs=3", "deep-v2.width=48", "shallow.gamma=scale", "pca_components=null", "augment=false"]
    )
    assert settings == {
        "*": {"epochs": 3, "pca_components": None, "augment": False},
        "deep_v2": {"width": 48},
        "shallow": {"gamma": "scale"},
    }
    with pytest.raises(ConfigError, match="is not KEY=VALUE"):
        parse_settings(["epochs"])


def test_the_plan_skips_jobs_with_a_finished_model_unless_retraining():
    selection = [("shallow", "svm"), ("deep_v1", "cnn")]
    done = {Job("a", "shallow", "svm", False): "a-svm-1"}
    entries = plan_jobs(selection, ["a", "b"], tune=False, finished=done)
    assert [(e.job.key, e.run, e.reason) for e in entries] == [
        ("a.shallow.svm", False, "done: a-svm-1"),
        ("a.deep_v1.cnn", True, "to run"),
        ("b.shallow.svm", True, "to run"),
        ("b.deep_v1.cnn", True, "to run"),
    ]
    assert summary_counts(entries) == {"jobs": 4, "to_run": 3, "skipped": 1}
    again = plan_jobs(selection, ["a"], tune=False, finished=done, retrain=True)
    assert [(e.run, e.reason) for e in again] == [(True, "retrain"), (True, "to run")]


def test_tuned_jobs_have_their_own_key_and_a_file_safe_slug():
    job = Job("my pack", "deep_v2", "se", tune=True)
    assert job.key == "my pack.deep_v2.se.tuned" and job.slug == "my_pack.deep_v2.se.tuned"
    assert job.label == "deep-v2/se on my pack (tuned)"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("C=abc", "--set C=abc: C must be a number from 0.0001 to 10000."),
        ("nokey=1", "--set nokey=1: no selected family has hyperparameter 'nokey'; the known ones are"),
        ("shallow.epochs=3", "family 'shallow' has no hyperparameter 'epochs'; the known ones are C, feature_size"),
        ("deep_v2.warmup=x", "--set deep_v2.warmup=x: warmup must be a number from 0 to 100."),
    ],
)
def test_settings_are_read_and_refused_by_the_families_declarations(item, message):
    shallow = hyperparams_of(get_family("shallow").estimator)
    with pytest.raises(ConfigError) as error:
        parse_settings([item], [shallow])  # only shallow is selected; deep_v2.KEY still checks against deep_v2
    assert message in str(error.value)
    assert parse_settings(["n_estimators=300"], [shallow]) == {"*": {"n_estimators": 300}}
