"""The PostgreSQL server the tests may use: $EYEVSAI_TEST_POSTGRES_URL (`.ci/run` starts one on loopback)."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

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
