"""Database engine, sessions and migrations: SQLite (WAL, one writer at a time) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK_ID = 0x5EE_A1  # PostgreSQL advisory lock held while migrating: workers starting together wait
WRITE_OPTION = "eyevsai_write"


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys, a busy timeout and IMMEDIATE write transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=20,
            pool_pre_ping=False,
            hide_parameters=True,  # errors and logs never carry emails or password hashes
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, hide_parameters=True)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling starts transactions late and DEFERRED; a deferred transaction that
    # later writes can fail at once with "database is locked" instead of waiting. Transactions are begun here:
    # DEFERRED for reads, IMMEDIATE (waits for the write lock, up to the busy timeout) for writes.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects are untyped
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # noqa: ANN001
        is_write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


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


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply the versioned migrations up to `revision` (idempotent)."""
    from alembic import command  # lazy: alembic

    config = alembic_config(engine)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _ADVISORY_LOCK_ID})
                connection.commit()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext  # lazy: alembic

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory  # lazy: alembic

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
