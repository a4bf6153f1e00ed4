"""Bounded waits: a database that is down, hung, full or locked answers 503 quickly; `serve` refuses an unusable one."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from tests.sync_server.helpers import ApiClient
from tests.sync_server.test_games import upload_body

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens once the socket is closed


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung database or a partition behind a proxy)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def _timed_health(api: ApiClient) -> tuple[float, int, dict]:
    started = time.monotonic()
    response = api.get("/health")
    return time.monotonic() - started, response.status_code, response.json()


@SQLITE_ONLY
@pytest.mark.parametrize("port_kind", ["closed_port", "silent_port"])
def test_health_answers_503_within_a_second_when_the_database_is_gone(
    make_client, request: pytest.FixtureRequest, port_kind: str
) -> None:
    port = request.getfixturevalue(port_kind)
    api: ApiClient = make_client(database_url=f"postgresql+psycopg://nobody@127.0.0.1:{port}/none", auto_migrate=False)
    for _ in range(3):  # also while the previous probe still hangs
        elapsed, status, body = _timed_health(api)
        assert status == 503 and body["status"] == "database unavailable" and elapsed < 1.0


@SQLITE_ONLY
def test_requests_answer_503_with_retry_after_when_the_database_is_down(make_client, closed_port: int) -> None:
    api: ApiClient = make_client(
        database_url=f"postgresql+psycopg://nobody@127.0.0.1:{closed_port}/none", auto_migrate=False
    )
    for method, path in (("POST", "/api/v1/auth/guest"), ("GET", "/api/v1/ranked/packs")):
        response = api.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) >= 1


@SQLITE_ONLY
def test_a_full_disk_answers_503_and_reads_go_on(make_client) -> None:
    api: ApiClient = make_client(rate_limits={"per_ip": 0, "per_account": 0, "uploads_per_account": 0})
    token = api.register()["access_token"]
    engine = api.app_state.engine

    @event.listens_for(engine, "connect")
    def _no_room(dbapi_connection, _record) -> None:  # noqa: ANN001
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")  # the file cannot grow: SQLITE_FULL

    engine.dispose()
    statuses = [api.post("/api/v1/sessions", token=token, json=upload_body(10)).status_code for _ in range(30)]
    assert set(statuses) <= {201, 503} and statuses[-1] == 503  # free pages are used up first
    assert api.get("/api/v1/sessions", token=token).status_code == 200


@SQLITE_ONLY
def test_a_held_write_lock_times_out_as_503(make_client) -> None:
    api: ApiClient = make_client(db_timeouts={"statement_s": 0.3})
    token = api.guest()["access_token"]
    blocker = sqlite3.connect(api.app_state.engine.url.database, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock for long
        started = time.monotonic()
        response = api.post("/api/v1/sessions", token=token, json=upload_body(3))
        elapsed = time.monotonic() - started
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()
    assert response.status_code == 503 and elapsed < 3


# --- `eyevsai-server serve` on an unusable database: one line naming the setting, exit 2 ----------------------


def _serve(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_dir: Path, url: str = "") -> str:
    from sync_server.__main__ import main

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EYEVSAI_SERVER_DB_TIMEOUTS__CONNECT_S", "2")
    started = time.monotonic()
    assert main(["serve", "--data-dir", str(data_dir), "--port", "9"]) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert "Traceback" not in err and "EyeVsAI sync server on" not in err
    return " ".join(err.split())


@pytest.mark.parametrize(
    ("url", "named"),
    [("mysql://root@127.0.0.1/eyevsai", "unsupported database 'mysql'"), ("sqlite+pysqlcipher:///x.db", "unsupported")],
)
def test_serve_refuses_an_unsupported_database_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str, named: str
) -> None:
    err = _serve(monkeypatch, capsys, tmp_path, url)
    assert "DATABASE_URL" in err and named in err


@pytest.mark.parametrize("port_kind", ["closed_port", "silent_port"])
def test_serve_refuses_an_unreachable_database(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    port_kind: str,
) -> None:
    port = request.getfixturevalue(port_kind)
    err = _serve(monkeypatch, capsys, tmp_path, f"postgresql://eyevsai@127.0.0.1:{port}/eyevsai")
    assert "DATABASE_URL" in err and "unreachable" in err


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory with a migrated database, mounted read-only (as root, chmod would not stop writes)."""
    from sync_server.__main__ import main

    source, view = tmp_path / "source", tmp_path / "view"
    view.mkdir()
    assert main(["migrate", "--data-dir", str(source)]) == 0
    if not (_mount("--bind", str(source), str(view)) and _mount("-o", "remount,ro,bind", str(view))):
        subprocess.run(["umount", str(view)], capture_output=True, check=False)
        pytest.skip("needs a read-only bind mount (root with CAP_SYS_ADMIN)")
    yield view
    subprocess.run(["umount", str(view)], capture_output=True, check=False)


def test_serve_refuses_a_read_only_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], read_only_dir: Path
) -> None:
    capsys.readouterr()
    err = _serve(monkeypatch, capsys, read_only_dir)
    assert "EYEVSAI_SERVER_DATA_DIR" in err and "not writable" in err


@pytest.fixture
def full_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory on a 64 KiB file system: too small for the schema."""
    path = tmp_path / "tiny"
    path.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)):
        pytest.skip("needs to mount a small tmpfs (root with CAP_SYS_ADMIN)")
    yield path
    subprocess.run(["umount", str(path)], capture_output=True, check=False)


def test_serve_refuses_a_full_disk(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], full_dir: Path
) -> None:
    err = _serve(monkeypatch, capsys, full_dir)
    assert "EYEVSAI_SERVER_DATA_DIR" in err and "full" in err


def test_a_statement_past_its_timeout_is_stopped(database_url: str) -> None:
    from sqlalchemy.exc import OperationalError

    from sync_server.db import create_db_engine
    from sync_server.settings import DatabaseTimeouts

    engine = create_db_engine(database_url, timeouts=DatabaseTimeouts(statement_s=0.3))
    slow = (
        "SELECT pg_sleep(5)"
        if engine.dialect.name == "postgresql"
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.exec_driver_sql(slow)
        assert time.monotonic() - started < 3
        with engine.connect() as connection:  # the connection is fine afterwards
            assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
    finally:
        engine.dispose()
