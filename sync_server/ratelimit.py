"""Fixed-window request counters per key (client IP, account), kept in the worker's memory.

Each uvicorn worker counts on its own, so with N workers a client may reach up to N times a limit before every
worker refuses it; the limits are meant to stop floods and password guessing, for which that is enough. A deploy
behind a load balancer should also rate-limit there.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

MAX_KEYS = 100_000  # memory bound: past this, counters of finished windows are dropped


class RateLimiter:
    """`hit(key, limit, window_s)` counts a request and says how long to wait when the limit is exceeded."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, int]] = {}  # key → (window number, requests in it)
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_s: int) -> float | None:
        """Count one request; None when allowed, else the seconds until the window resets. limit 0: no limit."""
        if limit <= 0:
            return None
        now = self._clock()
        window = math.floor(now / window_s)
        with self._lock:
            start, count = self._counts.get(key, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._counts[key] = (start, count)
            if len(self._counts) > MAX_KEYS:
                self._prune(window)
        if count > limit:
            return max(1.0, (window + 1) * window_s - now)
        return None

    def _prune(self, window: int) -> None:
        for key in [k for k, (start, _) in self._counts.items() if start != window]:
            del self._counts[key]
        if len(self._counts) > MAX_KEYS:  # one window with that many distinct keys: start over
            self._counts.clear()
