"""Fixtures for the server tests: an app per test on its own SQLite file (or PostgreSQL), a sync client, a clock."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_server.db import create_db_engine, migrate
from sync_server.main import build_app_state, create_app
from sync_server.settings import Argon2Params, Settings
from tests.helpers.postgres import fresh_schema
from tests.helpers.smtp_sink import SmtpSink
from tests.sync_server.helpers import ApiClient, FakeClock

FAST_ARGON2 = Argon2Params(time_cost=1, memory_cost_kib=1024, parallelism=1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated once per run; each test gets a copy (migrating costs ~0.5 s a test)."""
    path = tmp_path_factory.mktemp("template") / "server.sqlite3"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: an SQLite file always; a fresh schema on $EYEVSAI_TEST_POSTGRES_URL when
    reachable."""
    if request.param == "sqlite":
        path = tmp_path / "server.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    with fresh_schema("t") as (url, _admin, _schema):
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC))


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    """One SMTP server on loopback for the run; `mailbox` empties it for each test."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def mailbox(smtp_sink: SmtpSink) -> SmtpSink:
    smtp_sink.clear()
    return smtp_sink


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str, mailbox: SmtpSink):
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "argon2": FAST_ARGON2,
            "log_level": "WARNING",
            "env": "test",
            "mail": mailbox.settings(),
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def make_client(make_settings, clock: FakeClock, mailbox: SmtpSink):
    """Builds an app from settings overrides and returns a client for it; closed at the end of the test."""
    clients: list[ApiClient] = []

    def make(oauth_http: object | None = None, **overrides: object) -> ApiClient:
        settings = make_settings(**overrides)
        app_state = build_app_state(settings, clock=clock, oauth_http=oauth_http)
        client = ApiClient(create_app(settings, app_state=app_state), app_state)
        client.mailbox = mailbox
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(make_client) -> ApiClient:
    return make_client()
