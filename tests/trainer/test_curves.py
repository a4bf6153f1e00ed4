"""Live curves from Progress events: epochs along one axis, phase markers, throughput and ETA."""

from __future__ import annotations

import math

from classifiers.progress import Progress
from trainer.curves import TrainingCurves, format_duration, status_line


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def epoch(n: int, total: int, message: str = "", **metrics: float) -> Progress:
    return Progress("epoch", n, total, message or f"epoch {n}/{total}", metrics)


def test_deep_run_events_become_epoch_series_with_throughput_and_eta() -> None:
    clock = Clock()
    curves = TrainingCurves(clock=clock)
    assert not curves.update(Progress("prepare", 0, 1, "measuring"))
    for n in (1, 2):
        for step in (1, 2):
            clock.now += 5
            assert not curves.update(Progress("step", step, 2, "", {"loss": 1.0, "images_per_s": 120.0}))
        assert curves.update(
            epoch(n, 10, loss=1.0 / n, val_loss=1.2 / n, accuracy=0.5 * n, val_accuracy=0.4 * n, lr=0.01)
        )
    assert curves.epochs == [1, 2]
    assert curves.series["val_accuracy"] == [0.4, 0.8]
    assert curves.images_per_s == 120.0
    # two epochs of 10 s each so far, 8 to go
    assert curves.eta_seconds() == 80.0
    clock.now += 5
    curves.update(Progress("step", 1, 2, "", {"images_per_s": 100.0}))
    assert curves.eta_seconds() == 75.0
    assert curves.best("val_accuracy") == (2, 0.8)
    assert curves.best("val_loss") == (2, 0.6)
    assert "100 images/s" in status_line(curves) and "ETA 1 min 15 s" in status_line(curves)


def test_first_epoch_eta_comes_from_its_steps_and_other_stages_from_their_rate() -> None:
    clock = Clock()
    curves = TrainingCurves(clock=clock)
    curves.update(Progress("step", 0, 100, ""))
    clock.now = 10
    curves.update(Progress("step", 25, 100, ""))
    assert curves.eta_seconds() == 30.0
    curves.update(Progress("features", 0, 200, ""))
    clock.now = 14
    curves.update(Progress("features", 50, 200, ""))
    assert curves.eta_seconds() == 12.0
    curves.update(Progress("fit", 0, 1, ""))
    assert curves.eta_seconds() is None


def test_transfer_phases_restart_their_epoch_count_and_become_markers() -> None:
    curves = TrainingCurves()
    for n in (1, 2, 3):
        curves.update(epoch(n, 3, f"frozen epoch {n}/3: loss 1", loss=1.0, val_accuracy=0.5))
    for n in (1, 2):
        curves.update(epoch(n, 4, f"fine-tune epoch {n}/4: loss 1", loss=0.5, val_accuracy=0.7))
    assert curves.epochs == [1, 2, 3, 4, 5]
    assert [(m.x, m.label) for m in curves.phases] == [(3.5, "fine-tune")]
    assert math.isnan(curves.series["lr"][0])  # transfer epochs report no learning rate
    assert curves.epoch_total == 4


def test_an_explicit_phase_event_marks_once() -> None:
    curves = TrainingCurves()
    curves.update(epoch(1, 2, loss=1.0))
    curves.update(epoch(2, 2, loss=0.9))
    assert curves.update(Progress("phase", 1, 2, "fine-tuning the top layers"))
    curves.update(epoch(1, 2, loss=0.8))
    assert [(m.x, m.label) for m in curves.phases] == [(2.5, "fine-tuning the top layers")]


def test_curves_rebuilt_from_model_cards() -> None:
    deep = TrainingCurves.from_training_info(
        {
            "history": [
                {
                    "epoch": 1,
                    "loss": 1.0,
                    "val_loss": 1.1,
                    "accuracy": 0.5,
                    "val_accuracy": 0.4,
                    "lr": 0.002,
                    "rss_mb": 500.0,
                },
                {"epoch": 2, "loss": 0.8, "val_loss": 0.9, "accuracy": 0.6, "val_accuracy": 0.5, "lr": 0.001},
            ]
        }
    )
    assert deep.epochs == [1, 2] and deep.series["lr"] == [0.002, 0.001] and not deep.phases
    transfer = TrainingCurves.from_training_info(
        {"phases": {"frozen": {"history": [{"loss": 1.0}, {"loss": 0.9}]}, "fine-tune": {"history": [{"loss": 0.7}]}}}
    )
    assert transfer.epochs == [1, 2, 3]
    assert [(m.x, m.label) for m in transfer.phases] == [(2.5, "fine-tune")]
    assert not TrainingCurves.from_training_info({"params": {}}).has_epochs()


def test_format_duration() -> None:
    assert format_duration(None) == "–"
    assert format_duration(42.4) == "42 s"
    assert format_duration(185) == "3 min 05 s"
    assert format_duration(3720) == "1 h 02 min"
