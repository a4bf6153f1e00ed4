"""Database engine, sessions and migrations: SQLite (WAL, one writer at a time) or PostgreSQL."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, event, exc, text
from sqlalchemy.orm import Session, sessionmaker

from sync_server.models import RateLimitCounter
from sync_server.settings import DatabaseTimeouts, Settings, SettingsError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK_ID = 0x5EE_A1  # PostgreSQL advisory lock held while migrating: workers starting together wait
WRITE_OPTION = "eyevsai_write"
_DEADLINE = "eyevsai_deadline"


def create_db_engine(url: str, *, pool_size: int = 10, timeouts: DatabaseTimeouts | None = None) -> Engine:
    """An engine for `url` with bounded waits; SQLite gets WAL, foreign keys and IMMEDIATE write transactions.

    Bound parameters are kept out of error messages and logs (they hold emails and password hashes).
    """
    timeouts = timeouts or DatabaseTimeouts()
    common = {"pool_size": pool_size, "max_overflow": 20, "pool_timeout": timeouts.pool_s, "hide_parameters": True}
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": timeouts.statement_s},
            pool_pre_ping=False,
            **common,
        )
        _configure_sqlite(engine, timeouts)
        return engine
    engine = create_engine(
        url,
        connect_args={
            "connect_timeout": max(1, math.ceil(timeouts.connect_s)),
            # A peer that stops acknowledging (host down, partition) drops the connection instead of hanging.
            "tcp_user_timeout": int(timeouts.connect_s * 1000),
            "keepalives_idle": 30,
        },
        pool_pre_ping=True,
        **common,
    )
    _configure_postgresql(engine, timeouts)
    return engine


def _configure_postgresql(engine: Engine, timeouts: DatabaseTimeouts) -> None:
    # Set per connection rather than in connect_args' `options`, which would replace options given in the URL.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects are untyped
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(timeouts.statement_s * 1000)}")
            cursor.execute(f"SET lock_timeout = {int(timeouts.statement_s * 1000)}")
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine, timeouts: DatabaseTimeouts) -> None:
    # pysqlite's own transaction handling starts transactions late and DEFERRED; a deferred transaction that
    # later writes can fail at once with "database is locked" instead of waiting. Transactions are begun here:
    # DEFERRED for reads, IMMEDIATE (waits for the write lock, up to the busy timeout) for writes.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record) -> None:  # noqa: ANN001 - DB-API objects are untyped
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeouts.statement_s * 1000)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite has no statement timeout: a progress handler interrupts a statement past its deadline
        # ("interrupted", answered 503 like any other database failure).
        deadline = record.info[_DEADLINE] = [math.inf, timeouts.statement_s]  # (when, seconds per statement)
        dbapi_connection.set_progress_handler(lambda: time.monotonic() > deadline[0], 10_000)

    @event.listens_for(engine, "before_cursor_execute")
    def _start_clock(connection, _cursor, _statement, _parameters, _context, _many) -> None:  # noqa: ANN001
        arm_deadline(connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # noqa: ANN001
        is_write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")


def arm_deadline(connection: object) -> None:
    """Start the statement clock of an SQLite connection (a Core or pooled DB-API one; no-op elsewhere): the next
    statement is interrupted past the statement timeout."""
    deadline = connection.info.get(_DEADLINE)  # type: ignore[attr-defined]
    if deadline is not None:
        deadline[0] = time.monotonic() + deadline[1]


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def writer_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose every transaction is a write transaction (IMMEDIATE on SQLite), begun at the first query."""
    return sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Mark a fresh session as a writer; call before its first query (SQLite then takes the write lock first)."""
    session.connection(execution_options={WRITE_OPTION: True})


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error, holding the write lock on SQLite."""
    with factory() as session:
        begin_write(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine):  # noqa: ANN201 - alembic.config.Config, imported lazily
    from alembic.config import Config  # lazy: alembic (only migrations need it)

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def migrate(engine: Engine, revision: str = "head") -> bool:
    """Apply the versioned migrations up to `revision` (idempotent); True when this call changed the schema.

    On PostgreSQL an advisory lock makes hosts and workers starting together take turns: the first migrates, the
    others then find the schema current and change nothing.
    """
    from alembic import command  # lazy: alembic
    from alembic.runtime.migration import MigrationContext  # lazy: alembic

    config = alembic_config(engine)
    is_postgresql, is_sqlite = engine.dialect.name == "postgresql", engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if is_sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign keys on, that DROP would
            # cascade into every table that points at it (game_sessions -> rounds, board places). The switch
            # only works outside a transaction, so it goes to the driver before SQLAlchemy begins one.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        if is_postgresql:
            # A migration may take long, and waiting for another host's migration is expected: no timeouts here.
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.exec_driver_sql("SET lock_timeout = 0")
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
            connection.commit()
        try:
            before = MigrationContext.configure(connection).get_current_revision()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
            after = MigrationContext.configure(connection).get_current_revision()
            connection.commit()
            if is_sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                connection.commit()
                if broken:
                    raise RuntimeError(f"A migration left rows whose foreign keys point nowhere: {broken[:5]}")
        finally:
            if is_postgresql:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _ADVISORY_LOCK_ID})
                connection.commit()
                connection.invalidate()  # never hand this timeout-less connection to a request
            if is_sqlite:
                connection.invalidate()  # never hand a connection without foreign keys to a request
    return before != after


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext  # lazy: alembic

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory  # lazy: alembic

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def open_database(settings: Settings) -> tuple[str, bool]:
    """Migrate the configured database and check that it takes writes, once, before the server starts.

    Returns:
        The database's dialect name and whether this call migrated it.

    Raises:
        SettingsError: the database is unsupported, unreachable, read-only or full; the message names the setting.
    """
    setting = "DATABASE_URL" if settings.database_url else f"EYEVSAI_SERVER_DATA_DIR ({settings.resolved_data_dir()})"
    try:
        url = settings.resolved_database_url()
        if url.startswith("sqlite") and not os.access(settings.resolved_data_dir(), os.W_OK):
            raise PermissionError(f"{settings.resolved_data_dir()} is read-only or not writable by this user")
        engine = create_db_engine(url, timeouts=settings.db_timeouts)
    except (OSError, exc.ArgumentError, exc.NoSuchModuleError) as error:
        raise SettingsError(f"{setting}: {_failure(error)}") from error
    try:
        migrated = migrate(engine)
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection, connection.begin():
            # A write that changes nothing still needs a writable database (a read-only file, mount or replica).
            table = RateLimitCounter.__table__
            connection.execute(delete(table).where(table.c.expires_at < 0))
    except (OSError, exc.SQLAlchemyError) as error:
        raise SettingsError(f"{setting}: {_failure(error)}") from error
    finally:
        engine.dispose()
    return engine.dialect.name, migrated


def _failure(error: BaseException) -> str:
    """What an operator needs to hear about a database that cannot be used, in one line."""
    cause = getattr(error, "orig", None) or error
    text_ = " ".join(str(cause).split())[:300]
    lowered = text_.lower()
    if isinstance(error, exc.NoSuchModuleError | exc.ArgumentError):
        return f"unsupported database URL ({text_}); use postgresql://user:password@host/db or leave it unset"
    if "read-only" in lowered or "readonly" in lowered or "read only" in lowered:
        return f"the database is read-only ({text_}); give the server a writable database"
    if "disk is full" in lowered or "no space left" in lowered or "disk full" in lowered:
        return f"the disk is full ({text_}); free space and start again"
    if isinstance(error, PermissionError) or "not writable" in lowered or "unable to open database file" in lowered:
        return f"cannot create or open the database there ({text_}); check that the directory is writable"
    if isinstance(error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError):
        return f"the database is unreachable ({text_}); check the host, port, credentials and that it is running"
    return f"the database cannot be used ({type(cause).__name__}: {text_})"
