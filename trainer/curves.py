"""Live training curves from a stream of Progress events: per-epoch series, phase markers, throughput and ETA.

The GUI feeds every event of a training run to `TrainingCurves.update` and redraws what changed; the class
needs no Qt, so its bookkeeping is tested on plain event lists. Epochs are numbered along one x axis even
when a two-phase (transfer) run restarts its epoch count in the second phase. A phase boundary is a "phase"
event, or else an "epoch" event whose count restarts (the transfer family numbers each phase's epochs from 1
and names the phase in its message: "fine-tune epoch 1/4: ...").
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from classifiers.progress import Progress

SERIES = ("loss", "val_loss", "accuracy", "val_accuracy", "lr")
_PHASE_NAME = re.compile(r"^(.+?) epoch \d+")


@dataclass
class PhaseMarker:
    """A phase boundary (e.g. "fine-tuning") placed before epoch position `x`."""

    x: float
    label: str


@dataclass
class TrainingCurves:
    """Everything the live view shows, updated one event at a time.

    Attributes:
        epochs: x position of each finished epoch (1, 2, ... across phases).
        series: name -> one value per finished epoch (NaN where an epoch did not report it).
        stage / message: the latest event's stage and message.
        images_per_s: the latest training throughput.
        epoch_total: epochs planned in the current phase (0 until the first epoch event says).
    """

    clock: Callable[[], float] = time.monotonic
    epochs: list[float] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in SERIES})
    phases: list[PhaseMarker] = field(default_factory=list)
    stage: str = ""
    message: str = ""
    done: int = 0
    total: int = 0
    images_per_s: float | None = None
    epoch_total: int = 0
    _epoch_in_phase: int = 0
    _stage_started: float = 0.0
    _stage_first_done: int = 0
    _epoch_started: float | None = None
    _epoch_seconds: list[float] = field(default_factory=list)
    _step: tuple[int, int] = (0, 0)
    _last_event: float | None = None

    def update(self, event: Progress) -> bool:
        """Record one event; return True when the curves (not just the status line) changed."""
        now = self.clock()
        previous, self._last_event = self._last_event, now
        if event.stage != self.stage:
            self._stage_started, self._stage_first_done = now, event.done
        self.stage, self.message, self.done, self.total = event.stage, event.message, event.done, event.total
        if "images_per_s" in event.metrics:
            self.images_per_s = float(event.metrics["images_per_s"])
        if event.stage == "step":
            if self._epoch_started is None:  # the epoch began when the event before its first step came
                self._epoch_started = now if previous is None else previous
            self._step = (event.done, event.total)
            return False
        if event.stage == "epoch":
            self._add_epoch(event, now)
            self._epoch_started = now  # the next epoch starts now (validation time counts to this one)
            return True
        if event.stage == "phase":
            self._start_phase(event.message or f"phase {len(self.phases) + 2}")
            return True
        return False

    def _start_phase(self, label: str) -> None:
        self._epoch_in_phase = 0
        self._epoch_seconds.clear()  # a phase trains other layers: its epochs take their own time
        self.phases.append(PhaseMarker(self._last_x() + 0.5, label))

    def _last_x(self) -> float:
        return self.epochs[-1] if self.epochs else 0.0

    def _add_epoch(self, event: Progress, now: float) -> None:
        restarted = self.epochs and event.done <= self._epoch_in_phase
        if restarted and not (self.phases and self.phases[-1].x > self._last_x()):
            match = _PHASE_NAME.match(event.message)
            self._start_phase(match.group(1) if match else f"phase {len(self.phases) + 2}")
        self.epoch_total = event.total
        self._epoch_in_phase = event.done
        self.epochs.append(self._last_x() + 1)
        for name in SERIES:
            value = event.metrics.get(name)
            self.series[name].append(float("nan") if value is None else float(value))
        if self._epoch_started is not None:
            self._epoch_seconds.append(now - self._epoch_started)
        self._step = (0, 0)

    def has_epochs(self) -> bool:
        return bool(self.epochs)

    def eta_seconds(self) -> float | None:
        """Seconds left in this run's current phase of epochs, or in the current stage; None when unknown.

        Epoch-based: the mean epoch time so far times the epochs left (an upper bound when early stopping can
        end the run sooner). Other stages: the stage's rate so far.
        """
        now = self.clock()
        if self.stage in ("step", "epoch") and self._epoch_seconds and self.epoch_total:
            per_epoch = sum(self._epoch_seconds) / len(self._epoch_seconds)
            left = self.epoch_total - self._epoch_in_phase
            if self.stage == "step" and self._step[1]:
                left -= self._step[0] / self._step[1]
            return max(0.0, left * per_epoch)
        if self.stage == "step" and self._epoch_started is not None and self._step[0] and not self._epoch_seconds:
            # the first epoch: only this epoch's remainder is known
            rate = (now - self._epoch_started) / self._step[0]
            return max(0.0, (self._step[1] - self._step[0]) * rate)
        progressed = self.done - self._stage_first_done
        if self.total and progressed > 0:
            rate = (now - self._stage_started) / progressed
            return max(0.0, (self.total - self.done) * rate)
        return None

    def best(self, name: str = "val_accuracy") -> tuple[float, float] | None:
        """(x, value) of the best epoch by a series (highest accuracy, lowest loss), ignoring NaN."""
        points = [(x, v) for x, v in zip(self.epochs, self.series.get(name, []), strict=False) if v == v]
        if not points:
            return None
        pick = max if "accuracy" in name else min
        return pick(points, key=lambda p: p[1])

    @classmethod
    def from_training_info(cls, training: dict) -> TrainingCurves:
        """Curves rebuilt from a model card's `training` entry: a `history` list (one dict per epoch, the deep
        families) or `phases` {name: {"history": [...]}} (the two-phase transfer family)."""
        curves = cls()
        phases = training.get("phases")
        if isinstance(phases, dict) and phases:
            for index, (name, phase) in enumerate(phases.items()):
                if index:
                    curves._start_phase(str(name))
                curves._replay(phase.get("history") or [] if isinstance(phase, dict) else [])
        else:
            curves._replay(training.get("history") or [])
        return curves

    def _replay(self, history: Iterable[dict[str, float]]) -> None:
        for number, row in enumerate(history, start=1):
            metrics = {k: v for k, v in row.items() if k in SERIES and isinstance(v, int | float)}
            self._add_epoch(Progress("epoch", number, 0, "", metrics), self.clock())


def format_duration(seconds: float | None) -> str:
    """ "1 h 02 min", "3 min 05 s", "42 s", or "–" when unknown."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def status_line(curves: TrainingCurves) -> str:
    """One line for the status area: stage progress, throughput and ETA."""
    parts = [curves.message or curves.stage]
    if curves.images_per_s:
        parts.append(f"{curves.images_per_s:,.0f} images/s")
    eta = curves.eta_seconds()
    if eta is not None:
        parts.append(f"ETA {format_duration(eta)}")
    return " · ".join(parts)
