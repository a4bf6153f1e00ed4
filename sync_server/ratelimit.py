"""Fixed-window request counters per key (client IP, account, email digest), shared through the database.

Every worker on every host adds its requests to one row per key and window in the table `rate_limits` (an atomic
upsert that returns the new count, on SQLite and PostgreSQL alike), so two workers or two hosts do not double a
limit. Windows are aligned on the Unix epoch, so hosts with synchronised clocks agree on them.

Small limits (the sign-in ones) are counted exactly: one upsert per request. A large limit (600 requests a minute
per IP) would cost a database write on every read, so a process adds its requests in batches of `limit / 50`:
a limit can then be exceeded by at most one batch per process (2 % each), which is what a flood limit can afford.

Another store (Redis: `INCRBY` + `EXPIRE` on `key:window`) only has to implement `CounterStore.add`; none is
shipped because no maintained Redis client is part of the server's dependencies yet.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Protocol

import anyio.to_thread
from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sync_server.models import RateLimitCounter

BATCH_FRACTION = 50  # a large limit is counted in batches of limit / 50 per process
MAX_KEY_CHARS = 100
MAX_LOCAL_KEYS = 100_000  # memory bound of the per-process batches
_CLEANUP_PROBABILITY = 0.01  # of a flush also deleting the rows of finished windows


class CounterStore(Protocol):
    """Where the counts live; shared by every process that should count against the same limits."""

    def add(self, key: str, window: int, amount: int, expires_at: int) -> int:
        """Add `amount` to the key's count in `window` and return the new total (atomic across processes)."""
        ...


class DatabaseCounters:
    """Counters in the `rate_limits` table of the server's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        self._is_postgresql = engine.dialect.name == "postgresql"

    def add(self, key: str, window: int, amount: int, expires_at: int) -> int:
        table = RateLimitCounter.__table__
        statement = self._insert(table).values(key=key, window_no=window, count=amount, expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key, table.c.window_no], set_={"count": table.c.count + amount}
        ).returning(table.c.count)
        # Its own short transaction, never part of a request's. On SQLite the upsert is its first statement, so it
        # waits for the write lock like an IMMEDIATE transaction would (no earlier read can make it fail at once).
        with self._engine.begin() as connection:
            if self._is_postgresql:
                # A lost counter after a crash is harmless; not waiting for the WAL flush keeps this cheap.
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            total = connection.execute(statement).scalar_one()
            if random.random() < _CLEANUP_PROBABILITY:  # noqa: S311 - spreading chores, not security
                connection.execute(delete(table).where(table.c.expires_at < int(time.time())))
        return total


class MemoryCounters:
    """Counters in this process only (tests, or a single-process server that wants no database writes)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def add(self, key: str, window: int, amount: int, expires_at: int) -> int:
        with self._lock:
            if len(self._counts) > MAX_LOCAL_KEYS:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            total = self._counts[key, window] = self._counts.get((key, window), 0) + amount
        return total


class RateLimiter:
    """`hit(key, limit, window_s)` counts a request and says how long to wait when the limit is exceeded."""

    def __init__(self, store: CounterStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        # (key, window) → [requests not yet added to the store, the store's last total]
        self._local: dict[tuple[str, int], list[int]] = {}
        self._lock = threading.Lock()

    def _needs_store(self, key: str, limit: int, window_s: int) -> bool:
        """Whether the next `hit` will write to the store."""
        if limit <= 0:
            return False
        entry = self._local.get((_stored_key(key), math.floor(self._clock() / window_s)))
        return (entry[0] if entry else 0) + 1 >= _batch(limit)

    def hit(self, key: str, limit: int, window_s: int) -> float | None:
        """Count one request; None when allowed, else the seconds until the window resets. limit 0: no limit.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database could not count (the API answers 503).
        """
        if limit <= 0:
            return None
        now = self._clock()
        window = math.floor(now / window_s)
        key = _stored_key(key)
        with self._lock:
            entry = self._local.setdefault((key, window), [0, 0])
            entry[0] += 1
            pending = entry[0] if entry[0] >= _batch(limit) else 0
            entry[0] -= pending
            if len(self._local) > MAX_LOCAL_KEYS:
                self._local = {k: v for k, v in self._local.items() if k[1] == window}
        if pending:
            try:
                total = self._store.add(key, window, pending, (window + 1) * window_s)
            except BaseException:
                with self._lock:  # not counted: keep the requests for the next attempt
                    entry[0] += pending
                raise
            with self._lock:
                entry[1] = max(entry[1], total)
        if entry[1] + entry[0] > limit:
            return max(1.0, (window + 1) * window_s - now)
        return None

    async def hit_from_loop(self, key: str, limit: int, window_s: int) -> float | None:
        """`hit` for a caller on the event loop: a hit that writes to the store runs on a worker thread, the others
        (all but one in a batch) in place."""
        if self._needs_store(key, limit, window_s):
            return await anyio.to_thread.run_sync(self.hit, key, limit, window_s)
        return self.hit(key, limit, window_s)


def _batch(limit: int) -> int:
    return max(1, limit // BATCH_FRACTION)


def _stored_key(key: str) -> str:
    """Keys are bounded in length (a long one, e.g. an odd forwarded address, is replaced by its digest)."""
    if len(key) <= MAX_KEY_CHARS:
        return key
    return key[:20] + "#" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]
