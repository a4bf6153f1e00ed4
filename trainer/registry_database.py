"""Where the model registry lives: an SQLite file or a database URL (PostgreSQL), its tables and migrations.

SQLAlchemy Core gives SQLite and PostgreSQL one code path. Writes run in `transaction()`: on SQLite that is
`BEGIN IMMEDIATE` (the single writer, taken before the first read, so a read-then-write never fails half-way); on
PostgreSQL an ordinary transaction whose row locks (`SELECT ... FOR UPDATE SKIP LOCKED`, see
`trainer.pipeline.claims`) keep several machines apart.

The schema version lives in SQLite's `PRAGMA user_version` (as registries before URLs had it) and, on another
database, in the one-row table `registry_schema`; `MIGRATIONS[n]` upgrades version n to n + 1.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.errors import MissingExtraError

if TYPE_CHECKING:
    import sqlalchemy as sa

SCHEMA_VERSION = 2
V1_COLUMNS: dict[str, type] = {
    "id": str,
    "family": str,
    "variant": str,
    "pack_id": str,
    "version": int,
    "status": str,
    "job": str,
    "tuned": int,
    "config": str,
    "metrics": str,
    "test_accuracy": float,
    "difficulty": str,
    "model_dir": str,
    "onnx_path": str,
    "onnx_sha256": str,
    "onnx_bytes": int,
    "created": str,
    "finished": str,
    "seconds": float,
    "log_path": str,
    "checkpoint": str,
    "pid": int,
    "owner_pid": int,
    "error": str,
}
COLUMNS: dict[str, type] = {**V1_COLUMNS, "host": str}  # v2: the machine whose process owns a running row
NOT_NULL = ("family", "variant", "pack_id", "status", "version")
ADVISORY_LOCK = 0x45564149  # PostgreSQL: one migration at a time when several machines open a new registry


def is_url(location: str | Path) -> bool:
    """Whether a registry or tuning location is a database URL rather than a file path."""
    return "://" in str(location)


def engine_url(url: str) -> str:
    """The URL with the driver this project installs: `postgresql://` means psycopg 3 (as the server's)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def shown(location: str | Path) -> str:
    """A location for messages: a URL without its password."""
    if not is_url(location):
        return str(location)
    import sqlalchemy as sa  # lazy: sqlalchemy, with the train extra

    try:
        return sa.engine.make_url(str(location)).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return str(location)


def _sa() -> Any:
    try:
        import sqlalchemy  # lazy: sqlalchemy, with the train extra (a clear error when missing)
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "The model registry needs SQLAlchemy, which is not installed. "
            "Install it with `pip install 'eyevsai[train]'`."
        ) from exc
    return sqlalchemy


def _columns(sa: Any, columns: dict[str, type]) -> list[Any]:
    kinds = {str: sa.Text, int: sa.Integer, float: sa.Float}
    return [
        sa.Column(name, kinds[kind], primary_key=name == "id", nullable=name not in NOT_NULL and name != "id")
        for name, kind in columns.items()
    ]


@functools.cache
def tables() -> tuple[sa.Table, sa.Table]:
    """The registry's tables as they are at SCHEMA_VERSION: `models` (one row per run) and `pipeline_jobs`."""
    sa = _sa()
    metadata = sa.MetaData()
    models = sa.Table("models", metadata, *_columns(sa, COLUMNS))
    jobs = sa.Table(
        "pipeline_jobs",
        metadata,
        sa.Column("key", sa.Text, primary_key=True),  # Job.key: pack.family.variant[.tuned]
        sa.Column("state", sa.Text, nullable=False),  # free | running | done | failed | interrupted
        sa.Column("owner", sa.Text),  # host:pid of the pipeline that holds or last held it
        sa.Column("model_id", sa.Text),
        sa.Column("lease_expires", sa.Float),  # unix time; a running job past it is claimable again
        sa.Column("claimed", sa.Float),
        sa.Column("ended", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
    )
    return models, jobs


def _create_v1(connection: Any) -> None:
    sa = _sa()
    metadata = sa.MetaData()
    models = sa.Table("models", metadata, *_columns(sa, V1_COLUMNS))
    sa.Index("idx_models_pack_id_family_variant", models.c.pack_id, models.c.family, models.c.variant)
    sa.Index("idx_models_status", models.c.status)
    metadata.create_all(connection)


def _add_hosts_and_jobs(connection: Any) -> None:
    sa = _sa()
    connection.execute(sa.text("ALTER TABLE models ADD COLUMN host TEXT"))
    tables()[1].create(connection)


MIGRATIONS: list[Callable[[Any], None]] = [_create_v1, _add_hosts_and_jobs]  # index n: version n → n + 1


def open_engine(location: str | Path) -> sa.Engine:
    """An engine on an SQLite file (WAL, a generous busy timeout, `BEGIN IMMEDIATE` writes) or a database URL.

    Raises:
        MissingExtraError: SQLAlchemy, or the URL's database driver, is not installed.
    """
    sa = _sa()
    if not is_url(location):
        Path(location).parent.mkdir(parents=True, exist_ok=True)
        # a generous timeout: the pipeline's processes and a `train` command may write at the same moment
        engine = sa.create_engine(f"sqlite:///{Path(location)}", connect_args={"timeout": 60})
        sa.event.listen(engine, "connect", _sqlite_connected)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return sa.create_engine(engine_url(str(location)), pool_pre_ping=True)
    except (ModuleNotFoundError, sa.exc.NoSuchModuleError) as exc:
        raise MissingExtraError(
            f"The registry URL {shown(location)} needs a database driver that is not installed ({exc}). "
            "For PostgreSQL install psycopg: `pip install 'psycopg[binary]'`."
        ) from exc


def _sqlite_connected(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below opens the transactions
    dbapi_connection.execute("PRAGMA journal_mode=WAL")


def _sqlite_begin(connection: Any) -> None:
    is_write = connection.get_execution_options().get("registry_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[Any]:
    """A write transaction: the single writer on SQLite, an ordinary one on PostgreSQL (row locks do the rest)."""
    with engine.connect() as connection:
        connection.execution_options(registry_write=True)
        with connection.begin():
            yield connection


def schema_version(connection: Any) -> int:
    sa = _sa()
    if connection.dialect.name == "sqlite":
        return connection.exec_driver_sql("PRAGMA user_version").scalar_one()
    if not sa.inspect(connection).has_table("registry_schema"):
        return 0
    return connection.execute(sa.text("SELECT MAX(version) FROM registry_schema")).scalar() or 0


def set_schema_version(connection: Any, version: int) -> None:
    sa = _sa()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
        return
    connection.execute(sa.text("CREATE TABLE IF NOT EXISTS registry_schema (version INTEGER NOT NULL)"))
    connection.execute(sa.text("DELETE FROM registry_schema"))
    connection.execute(sa.text("INSERT INTO registry_schema (version) VALUES (:v)"), {"v": version})


def migrate(engine: sa.Engine) -> int:
    """Bring the schema to SCHEMA_VERSION in one transaction; return the version found (newer ones are the
    caller's to refuse: nothing is changed then)."""
    sa = _sa()
    with engine.connect() as connection:  # the usual case, without taking the writer's lock: nothing to do
        found = schema_version(connection)
    if found >= SCHEMA_VERSION:
        return found
    with transaction(engine) as connection:
        if connection.dialect.name == "postgresql":  # machines opening a new registry at once migrate in turn
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        found = schema_version(connection)
        for step in range(found, SCHEMA_VERSION):
            MIGRATIONS[step](connection)
        if found < SCHEMA_VERSION:
            set_schema_version(connection, SCHEMA_VERSION)
        return found
