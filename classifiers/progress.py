"""Progress events streamed by long work (training, export, evaluation) to a CLI bar or a GUI worker."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Progress:
    """One step of long work.

    Attributes:
        stage: what is running ("features", "fit", "epoch", "step", "export", "evaluate", "phase").
        done: units finished within the stage.
        total: units in the stage (0 when unknown).
        message: a short human-readable line.
        metrics: numbers worth plotting (loss, accuracy, lr, images_per_s, rss_mb...).
    """

    stage: str
    done: int
    total: int
    message: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)


def run_to_end(work: Generator[Any, None, R], on_event: Callable[[Any], object] | None = None) -> R:
    """Drive a generator to its end, handing each item it yields to `on_event`; return the generator's value."""
    while True:
        try:
            event = next(work)
        except StopIteration as stop:
            return stop.value
        if on_event is not None:
            on_event(event)
