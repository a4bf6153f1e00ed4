"""The PostgreSQL server the tests may use: $EYEVSAI_TEST_POSTGRES_URL (`.ci/run` starts one on loopback)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text

POSTGRES_ENV = "EYEVSAI_TEST_POSTGRES_URL"


def reachable_postgres_url() -> str | None:
    """$EYEVSAI_TEST_POSTGRES_URL when that server answers, else None (the PostgreSQL runs skip)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return None
    try:
        engine = create_engine(psycopg_url(url), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:  # noqa: BLE001 - unreachable server: skip the PostgreSQL runs
        return None
    return url


def psycopg_url(url: str) -> str:
    """SQLAlchemy's URL for the psycopg 3 driver."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def fresh_schema(prefix: str) -> Iterator[tuple[str, Engine, str]]:
    """A new, empty schema on the test PostgreSQL, dropped afterwards: (a URL whose tables go to it, an engine on
    the database, the schema's name). Skips the test when no PostgreSQL server answers."""
    url = reachable_postgres_url()
    if url is None:
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV}=postgresql://user@127.0.0.1:5432/db to run")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(psycopg_url(url))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", admin, schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
