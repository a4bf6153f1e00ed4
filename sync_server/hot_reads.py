"""Read statements compiled once and run straight on the driver, for the reads that must be cheap, on the event loop.

SQLAlchemy Core costs about 0.2 ms of CPU to execute one small statement here (execution context, result object,
events), three times what SQLite takes to run an index lookup, and a board read is two or three such statements
(docs/architecture.md, "Leaderboard reads"). A `HotRead` keeps what Core would do per call and does it once: the
SQL for the dialect, the order of its parameters, the defaults Core bound, and the type processors (a date as
SQLite stores it, an aware UTC datetime back). Driver errors are raised as Core raises them, so the API answers a
database failure with 503 either way.

Both kinds of reads are awaited on the event loop, with no worker thread:

- `HotReads` (SQLite): the DB-API connection of a pooled connection (`engine.raw_connection()`), with the statement
  deadline armed as `db.py`'s events arm it. A local index lookup does not block the loop for long, and SQLite's
  driver would otherwise hand the GIL back and forth with the loop at every step.
- `AsyncHotReads` (PostgreSQL): psycopg's asyncio connections from a pool of their own (psycopg_pool): the loop
  serves other requests while a read waits on the network, and a hung database holds only its requests (the
  connect, statement and pool timeouts bound them). The connections run in autocommit and with generic plans.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.sql import CompoundSelect, Select

from sync_server.db import arm_deadline
from sync_server.settings import DatabaseTimeouts

Statement = Select | CompoundSelect


class HotRead:
    """One select statement compiled for one dialect: its parameters in the driver's form, its rows processed."""

    def __init__(self, statement: Statement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._positional = compiled.positiontup  # None for named parameter styles (psycopg)
        self._defaults = {name: value for name, value in compiled.params.items() if value is not None}
        self._binds: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._binds[name] = processor
        columns = statement.selected_columns
        self._results = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns]
        self._plain = not any(self._results)

    def parameters(self, params: Mapping[str, Any]) -> tuple | dict:
        values = {**self._defaults, **params}
        for name, processor in self._binds.items():
            if name in values:
                values[name] = processor(values[name])
        if self._positional is None:
            return values
        return tuple(values[name] for name in self._positional)

    def processed(self, fetched: list) -> list[tuple]:
        if self._plain:
            return [tuple(row) for row in fetched]
        return [
            tuple(
                value if processor is None else processor(value)
                for processor, value in zip(self._results, row, strict=True)
            )
            for row in fetched
        ]


class _Compiled:
    """The compiled forms of statements for one dialect, made on first use."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[int, HotRead] = {}

    def __getitem__(self, statement: Statement) -> HotRead:
        found = self._compiled.get(id(statement))
        if found is None:
            found = self._compiled[id(statement)] = HotRead(statement, self.dialect)
        return found

    def error(self, hot: HotRead, exc: Exception, *, dropped: bool = False) -> DBAPIError:
        """The driver's error as Core raises it (OperationalError for a database down, timed out or interrupted)."""
        return DBAPIError.instance(
            hot.sql,
            None,
            exc,
            self.dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=dropped,
            dialect=self.dialect,
        )


class HotConnection(ABC):
    """Runs hot reads on one connection: `await rows(statement, params)`, `await first(...)`."""

    @abstractmethod
    async def rows(self, statement: Statement, params: Mapping[str, Any]) -> list[tuple]:
        """The statement's rows, processed as Core would return them."""

    async def first(self, statement: Statement, params: Mapping[str, Any]) -> tuple | None:
        found = await self.rows(statement, params)
        return found[0] if found else None


class HotReads:
    """Hot reads on an engine's pooled DB-API connections, run in place (SQLite; see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._compiled = _Compiled(engine.dialect)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[HotConnection]:
        """A pooled connection, returned (rolled back) at the end of the block."""
        dbapi = self.engine.raw_connection()
        try:
            yield _DbapiConnection(self._compiled, dbapi)
        finally:
            dbapi.close()

    async def close(self) -> None:
        """Nothing to close: the engine's owner disposes of it."""


class _DbapiConnection(HotConnection):
    def __init__(self, compiled: _Compiled, dbapi: Any) -> None:
        self._compiled, self._dbapi = compiled, dbapi

    async def rows(self, statement: Statement, params: Mapping[str, Any]) -> list[tuple]:
        hot = self._compiled[statement]
        arm_deadline(self._dbapi)
        cursor = self._dbapi.driver_connection.cursor()
        try:
            cursor.execute(hot.sql, hot.parameters(params))
            fetched = cursor.fetchall()
        except self._compiled.dialect.loaded_dbapi.Error as exc:
            dropped = self._compiled.dialect.is_disconnect(exc, self._dbapi.driver_connection, cursor)
            if dropped:
                self._dbapi.invalidate(exc)  # not handed out again
            raise self._compiled.error(hot, exc, dropped=dropped) from exc
        finally:
            cursor.close()
        return hot.processed(fetched)


class AsyncHotReads:
    """Hot reads on psycopg's asyncio connections, pooled per process and event loop (PostgreSQL)."""

    def __init__(self, engine: Engine, *, max_size: int, timeouts: DatabaseTimeouts) -> None:
        from psycopg_pool import AsyncConnectionPool, PoolTimeout  # lazy: only a PostgreSQL server needs them

        self._pool_timeout = PoolTimeout

        self._compiled = _Compiled(engine.dialect)
        self._timeouts = timeouts
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            open=False,
            timeout=timeouts.pool_s,
            configure=self._configure,
            kwargs={
                "connect_timeout": max(1, math.ceil(timeouts.connect_s)),
                "tcp_user_timeout": int(timeouts.connect_s * 1000),
                "keepalives_idle": 30,
            },
        )
        self._opened = False

    async def _configure(self, connection: Any) -> None:  # noqa: ANN401 - psycopg.AsyncConnection
        """Every new connection: the statement and lock timeouts, generic plans (the board statements are the same
        index ranges for any values, and planning them cost twice running them), autocommit."""
        milliseconds = int(self._timeouts.statement_s * 1000)
        await connection.execute(f"SET statement_timeout = {milliseconds}")
        await connection.execute(f"SET lock_timeout = {milliseconds}")
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        await connection.commit()
        await connection.set_autocommit(True)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[HotConnection]:
        """A pooled connection for the block; past the pool timeout, sqlalchemy's TimeoutError (503)."""
        if not self._opened:
            self._opened = True
            await self._pool.open(wait=False)
        try:
            async with self._pool.connection() as connection:
                yield _AsyncConnection(self._compiled, connection)
        except self._pool_timeout as exc:
            raise PoolTimeoutError(f"No database connection within {self._timeouts.pool_s} s") from exc

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()


class _AsyncConnection(HotConnection):
    def __init__(self, compiled: _Compiled, connection: Any) -> None:  # noqa: ANN401 - psycopg.AsyncConnection
        self._compiled, self._connection = compiled, connection

    async def rows(self, statement: Statement, params: Mapping[str, Any]) -> list[tuple]:
        hot = self._compiled[statement]
        try:
            async with self._connection.cursor() as cursor:
                await cursor.execute(hot.sql, hot.parameters(params))
                fetched = await cursor.fetchall()
        except self._compiled.dialect.loaded_dbapi.Error as exc:
            raise self._compiled.error(hot, exc, dropped=self._connection.broken) from exc
        return hot.processed(fetched)
