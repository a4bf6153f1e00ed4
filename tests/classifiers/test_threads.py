"""The `threads` run setting: its default, the pools it sizes for the duration of a fit, and its absence from cards."""

from __future__ import annotations

import cv2
import pytest

from classifiers.families.threads import THREADS, native_threads, resolve_threads, torch_threads, usable_cpus
from classifiers.registry import get_family, list_families


def test_the_default_is_half_the_cpus_unless_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert resolve_threads(None) == max(1, usable_cpus() // 2)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # what the pipeline gives each job
    assert resolve_threads(None) == 3
    assert resolve_threads(5) == 5  # a value given wins


def test_every_family_offers_threads_and_no_card_records_it() -> None:
    for info in list_families():
        declared = info.estimator.HYPERPARAMS
        assert declared["threads"] == THREADS
        assert "threads" not in declared.card_values({"threads": 2, "seed": 0})


def test_native_threads_sizes_opencv_for_the_block_and_restores_it() -> None:
    before = cv2.getNumThreads()
    with native_threads(1) as count:
        assert (count, cv2.getNumThreads()) == (1, 1)
    assert cv2.getNumThreads() == before


@pytest.mark.torch
def test_torch_threads_sizes_the_pool_for_the_block_and_restores_it() -> None:
    import torch

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_a_shallow_fit_records_the_threads_it_ran_with(tmp_path) -> None:
    from tests.helpers.synthetic import make_synthetic_pack

    pack = make_synthetic_pack(tmp_path, per_class=8)
    estimator = get_family("shallow").create("logreg", feature_size=32, threads=1)
    for _ in estimator.fit(pack):
        pass
    assert estimator.training_info_["threads"] == 1
