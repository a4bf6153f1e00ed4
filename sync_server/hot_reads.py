"""Read statements compiled once and run straight on the driver's connection, for the reads that must be cheap.

SQLAlchemy Core costs about 0.2 ms of CPU to execute one small statement here (execution context, result object,
events), three times what SQLite takes to run an index lookup, and a board read is two or three such statements
(docs/architecture.md, "Leaderboard reads"). A `HotRead` keeps what Core would do per call and does it once: the
SQL for the dialect, the order of its parameters, the defaults Core bound, and the type processors (a date as
SQLite stores it, an aware UTC datetime back). It then runs on the DB-API connection of a pooled connection
(`engine.raw_connection()`), with the statement deadline armed as `db.py`'s events would arm it, and the driver's
errors raised as Core raises them (the API answers a database failure with 503 either way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import CompoundSelect, Select

from sync_server.db import arm_deadline


class HotRead:
    """One select statement, compiled for one dialect; `rows(dbapi, params)` runs it."""

    def __init__(self, statement: Select | CompoundSelect, dialect: Dialect) -> None:
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

    def _parameters(self, params: Mapping[str, Any]) -> tuple | dict:
        values = {**self._defaults, **params}
        for name, processor in self._binds.items():
            if name in values:
                values[name] = processor(values[name])
        if self._positional is None:
            return values
        return tuple(values[name] for name in self._positional)

    def rows(self, dbapi: Any, params: Mapping[str, Any]) -> list[tuple]:
        cursor = dbapi.cursor()
        try:
            cursor.execute(self.sql, self._parameters(params))
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        if self._plain:
            return [tuple(row) for row in fetched]
        return [
            tuple(
                value if processor is None else processor(value)
                for processor, value in zip(self._results, row, strict=True)
            )
            for row in fetched
        ]


class HotReads:
    """The compiled forms of some statements for one engine, made on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._compiled: dict[int, HotRead] = {}

    def __getitem__(self, statement: Select | CompoundSelect) -> HotRead:
        found = self._compiled.get(id(statement))
        if found is None:
            found = self._compiled[id(statement)] = HotRead(statement, self.engine.dialect)
        return found

    @contextmanager
    def connection(self) -> Iterator[HotConnection]:
        """A pooled connection, returned (rolled back) at the end of the block."""
        dbapi = self.engine.raw_connection()
        try:
            yield HotConnection(self, dbapi)
        finally:
            dbapi.close()


class HotConnection:
    """Runs hot reads on one DB-API connection: `rows(statement, params)`, `first(...)`."""

    def __init__(self, reads: HotReads, dbapi: Any) -> None:
        self._reads, self._dbapi, self._dialect = reads, dbapi, reads.engine.dialect

    def rows(self, statement: Select | CompoundSelect, params: Mapping[str, Any]) -> list[tuple]:
        """The statement's rows.

        Raises:
            sqlalchemy.exc.DBAPIError: as Core raises it (OperationalError for a database that is down, timed out or
                interrupted); a connection found dropped is invalidated, so the pool does not hand it out again.
        """
        arm_deadline(self._dbapi)
        hot = self._reads[statement]
        try:
            return hot.rows(self._dbapi.driver_connection, params)
        except self._dialect.loaded_dbapi.Error as exc:
            dropped = self._dialect.is_disconnect(exc, self._dbapi.driver_connection, None)
            if dropped:
                self._dbapi.invalidate(exc)
            raise DBAPIError.instance(
                hot.sql,
                None,
                exc,
                self._dialect.loaded_dbapi.Error,
                hide_parameters=True,
                connection_invalidated=dropped,
                dialect=self._dialect,
            ) from exc

    def first(self, statement: Select | CompoundSelect, params: Mapping[str, Any]) -> tuple | None:
        found = self.rows(statement, params)
        return found[0] if found else None
