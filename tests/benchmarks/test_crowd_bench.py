"""The crowd statistics benchmark (`python -m benchmarks --only crowd`) runs on a small seed, and the simulated
human-label export of the soft-label experiment matches its confusion model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.crowd import crowd_table, measure_crowd
from benchmarks.soft_labels import confusion_model, expected_calibration_error, simulate_export


def test_a_small_crowd_benchmark_seeds_folds_and_times_every_read() -> None:
    run = measure_crowd(rounds=5_000, images=200, players=300, reads=20)
    assert run.rounds == 5_000 and len(run.reads) == 5
    assert all(r.reads == 20 and r.p99_ms >= r.p50_ms > 0 for r in run.reads)
    assert "5,000 stored ranked rounds" in crowd_table(run).title


def test_the_simulated_crowd_is_right_as_often_as_people_on_fashion_mnist(tmp_path: Path) -> None:
    classes = ["ankle boot", "bag", "coat", "dress", "pullover", "sandal", "shirt", "sneaker", "t-shirt", "trouser"]
    matrix = confusion_model(classes)
    np.testing.assert_allclose(matrix.sum(1), 1.0)
    assert np.diag(matrix).mean() == pytest.approx(0.835, abs=0.002)
    labels = np.arange(2000) % 10
    path = tmp_path / "human_labels.jsonl"
    accuracy = simulate_export([f"{i:064x}" for i in range(2000)], labels, classes, path)
    assert accuracy == pytest.approx(0.835, abs=0.02)
    record = json.loads(path.read_text().splitlines()[0])
    assert sum(record["answer_counts"].values()) == record["players"] >= 5


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident() -> None:
    truth = np.array([0, 0, 0, 1])
    calibrated = np.array([[0.75, 0.25]] * 4)  # right 3 times in 4 at confidence 0.75
    assert expected_calibration_error(truth, calibrated) == pytest.approx(0.0)
    overconfident = np.array([[0.99, 0.01]] * 4)
    assert expected_calibration_error(truth, overconfident) == pytest.approx(0.24)
