"""Tuning with Optuna: resumable studies, retried interrupted trials, per-epoch pruning, search spaces."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Generator

import optuna
import pytest

from classifiers.errors import ConfigError
from classifiers.progress import run_to_end
from classifiers.registry import FamilyInfo, get_family
from tests.helpers.synthetic import make_synthetic_pack
from trainer.tuning import open_storage, study_name, tune
from trainer.tuning_spaces import estimator_defaults, generic_space, space_for

FIXED = {"feature_size": 32, "pca_components": None}  # keep trials quick on the 48×48 synthetic images


def drive(work: Generator):
    events = []
    return events, run_to_end(work, events.append)


def load(storage_path, name):
    return optuna.load_study(study_name=name, storage=open_storage(storage_path))


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return make_synthetic_pack(tmp_path_factory.mktemp("packs"), pack_id="tiny", per_class=24)


def test_a_study_resumes_and_only_runs_the_missing_trials(pack, tmp_path):
    storage = tmp_path / "tuning.db"
    shallow = get_family("shallow")
    events, first = drive(tune(shallow, pack, storage_path=storage, trials=2, variant="logreg", base_params=FIXED))
    assert first.study_name == "tiny.shallow.logreg" == study_name("tiny", "shallow", "logreg")
    assert first.counts() == {"COMPLETE": 2, "PRUNED": 0, "FAIL": 0}
    assert first.params["feature_size"] == 32 and first.params["pca_components"] is None
    assert [e.done for e in events if e.stage == "trial"] == [0, 1, 2]
    before = [(t.number, t.value, t.params) for t in load(storage, first.study_name).trials]
    assert all(set(params) == {"C"} for _, _, params in before)  # fixed values are neither tuned nor recorded
    assert first.params["C"] == before[first.best_trial][2]["C"]

    _, second = drive(tune(shallow, pack, storage_path=storage, trials=3, variant="logreg", base_params=FIXED))
    trials = load(storage, first.study_name).trials
    assert len(trials) == 3 and [(t.number, t.value, t.params) for t in trials[:2]] == before
    assert second.best_value == max(t.value for t in trials)
    assert second.notes()["tuning"]["COMPLETE"] == 3


def test_a_trial_left_running_by_a_dead_process_is_failed_and_retried(pack, tmp_path):
    storage = tmp_path / "tuning.db"
    name = study_name(pack.id, "shallow", "rf")
    study = optuna.create_study(storage=open_storage(storage), study_name=name, direction="maximize")
    stale = study.ask()
    params = space_for(get_family("shallow"))(stale, "rf")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale.set_user_attr("pid", dead.pid)

    events, result = drive(
        tune(get_family("shallow"), pack, storage_path=storage, trials=1, variant="rf", base_params=FIXED)
    )

    assert any("1 interrupted trial(s)" in e.message for e in events)
    trials = load(storage, name).trials
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    retried = trials[1]
    assert retried.user_attrs["retry_of"] == 0
    assert {k: retried.params[k] for k in params if k not in FIXED} == {
        k: v for k, v in stale.params.items() if k not in FIXED
    }
    assert result.best_trial == 1


def test_the_variant_is_tuned_when_none_is_given(pack, tmp_path):
    _, result = drive(
        tune(
            get_family("shallow"),
            pack,
            storage_path=tmp_path / "t.db",
            trials=2,
            base_params={**FIXED, "n_estimators": 10},
        )
    )
    assert result.study_name == "tiny.shallow" and result.variant in ("svm", "rf", "logreg")
    assert all("variant" in t["params"] for t in result.trials)


def test_tuning_needs_a_val_split_and_positive_trials(pack, tmp_path):
    with pytest.raises(ConfigError, match="at least 1"):
        drive(tune(get_family("shallow"), pack, storage_path=tmp_path / "t.db", trials=0))
    no_val = make_synthetic_pack(tmp_path / "packs", pack_id="noval", per_class=12)
    no_val.splits["val"] = []
    with pytest.raises(ConfigError, match="has no val split"):
        drive(tune(get_family("shallow"), no_val, storage_path=tmp_path / "t.db", trials=1))


@pytest.mark.torch
def test_a_deep_trial_below_the_median_at_an_epoch_is_pruned(pack, tmp_path):
    pytest.importorskip("torch")
    storage = tmp_path / "tuning.db"
    name = study_name(pack.id, "deep_v1", "cnn")
    study = optuna.create_study(storage=open_storage(storage), study_name=name, direction="maximize")
    template = optuna.create_study().ask()
    space_for(get_family("deep_v1"))(template, "cnn")
    for _ in range(2):  # two earlier trials that were perfect at every epoch
        study.add_trial(
            optuna.trial.create_trial(
                params=template.params,
                distributions=template.distributions,
                value=1.0,
                intermediate_values={1: 1.0, 2: 1.0},
            )
        )
    base = {
        "epochs": 2,
        "min_steps": 0,
        "image_size": 16,
        "width": 8,
        "blocks": 2,
        "workers": 0,
        "device": "cpu",
        "lr": 1e-6,
    }  # the lowest learning rate allowed learns nothing: far below the median after epoch 1

    _, result = drive(
        tune(get_family("deep_v1"), pack, storage_path=storage, trials=3, variant="cnn", base_params=base)
    )

    pruned = load(storage, name).trials[2]
    assert pruned.state.name == "PRUNED" and list(pruned.intermediate_values) == [1]  # stopped after epoch 1
    assert result.counts() == {"COMPLETE": 2, "PRUNED": 1, "FAIL": 0} and result.best_value == 1.0


def test_every_registered_family_has_a_search_space():
    from classifiers.registry import list_families

    for info in list_families():
        for variant in info.variants:
            params = space_for(info)(optuna.create_study().ask(), variant)
            assert params and set(params) <= set(estimator_defaults(info)), (info.name, variant)


def test_a_family_without_a_declared_space_gets_a_generic_one_around_its_defaults():
    class Estimator:
        def __init__(self, variant: str = "a", *, lr: float = 1e-3, dropout: float = 0.2, epochs: int = 5):
            pass

    info = FamilyInfo("newcomer", "New", "new", (), ("a",), Estimator)
    trial = optuna.create_study().ask()
    params = space_for(info)(trial, "a")
    assert set(params) == {"lr", "dropout"} and 2e-4 <= params["lr"] <= 5e-3 and 0 <= params["dropout"] <= 0.4
    assert generic_space({"epochs": 5}) is None
    with pytest.raises(ConfigError, match="has no hyperparameter search space"):
        space_for(FamilyInfo("bare", "Bare", "bare", (), ("a",), lambda variant="a", epochs=5: None))


class RecordingTrial:
    """A fake Optuna trial: answers each suggestion with both ends of its range, in turn, and records them."""

    def __init__(self, end: int) -> None:
        self.end, self.asked = end, {}

    def suggest_categorical(self, name, choices):
        self.asked[name] = list(choices)
        return choices[-self.end]

    def suggest_int(self, name, low, high, step=1):
        self.asked[name] = [low, high]
        return (low, high)[self.end]

    def suggest_float(self, name, low, high, log=False):
        self.asked[name] = [low, high]
        return (low, high)[self.end]


def test_tuning_ranges_stay_within_the_declared_bounds():
    from classifiers.families.params import hyperparams_of
    from classifiers.registry import list_families

    for info in list_families():
        declared = hyperparams_of(info.estimator)
        for variant in info.variants:
            for end in (0, 1):
                trial = RecordingTrial(end)
                params = space_for(info)(trial, variant)
                assert params, (info.name, variant)
                for name, value in params.items():
                    param = declared[name]
                    assert param.applies_to(variant), (info.name, variant, name)
                    for asked in trial.asked[name]:
                        assert param.problem(asked) is None, (info.name, variant, name, asked)
                    assert param.problem(value) is None
                info.create(variant, **params).check_params()  # a trial's whole set is a valid estimator
