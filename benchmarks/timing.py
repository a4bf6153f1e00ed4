"""Timing helpers: repeated wall-clock samples with the garbage collector paused, and the process's peak RSS."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Samples:
    """Wall-clock durations of repeated calls, in seconds."""

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return float(np.median(self.seconds))

    def percentile(self, q: float) -> float:
        """The q-th percentile (0–100) of the durations, in seconds."""
        return float(np.percentile(self.seconds, q))


def time_calls(call: Callable[[], object], *, repeats: int, warmup: int = 1) -> Samples:
    """Time `call` `repeats` times after `warmup` untimed calls.

    The collector is paused while timing (as `timeit` does) so that a collection triggered by one
    benchmark's garbage is not billed to whichever call happens to be running.

    Args:
        call: the work to time; its result is discarded.
        repeats: how many timed calls (at least 1).
        warmup: untimed calls first, to fill caches and let lazy initialisation happen.

    Returns:
        One duration per timed call.
    """
    for _ in range(warmup):
        call()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        durations = []
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            call()
            durations.append(time.perf_counter() - start)
    finally:
        if was_enabled:
            gc.enable()
    return Samples(tuple(durations))


def peak_rss_mib() -> float | None:
    """The peak resident set size of this process so far, in MiB; None where `resource` is missing (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
