"""What an operator relies on: health, docs, migrations, settings, limits, CORS, logs, errors, the command line."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from sync_server.logs import JsonFormatter
from sync_server.settings import SettingsError, load_settings
from tests.sync_server.helpers import ApiClient

REPO = Path(__file__).resolve().parents[2]
# For behaviour that does not depend on the database: run once, on SQLite.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_health_docs_and_openapi(api: ApiClient) -> None:
    health = api.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["database"] in ("sqlite", "postgresql")
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = api.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "EyeVsAI sync server"
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/oauth/{provider}/start",
        "/api/v1/sessions",
        "/api/v1/leaderboards/{pack_id}/{difficulty}/{period}",
        "/api/v1/ranked/sessions",
    ):
        assert path in schema["paths"]


def test_health_says_when_the_database_is_unreachable(api: ApiClient) -> None:
    api.app_state.engine = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2}
    )
    response = api.get("/health")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_migrations_match_the_models(api: ApiClient) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from sync_server.db import current_revision, head_revision
    from sync_server.models import Base

    engine = api.app_state.engine
    assert current_revision(engine) == head_revision(engine) is not None
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert differences == []


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({}, "SECRET_KEY"),
        ({"secret_key": "changeme"}, "SECRET_KEY"),
        ({"secret_key": "s" * 40, "cors_origins": ["*"]}, "CORS"),
        ({"secret_key": "s" * 40, "public_url": "http://eyevsai.example"}, "https://"),
    ],
)
def test_production_refuses_insecure_settings(overrides: dict, complaint: str) -> None:
    values = {"public_url": "https://eyevsai.example", **overrides}
    with pytest.raises(SettingsError, match=complaint):
        load_settings(env="production", **values)


def test_production_starts_with_a_real_secret() -> None:
    settings = load_settings(env="production", secret_key="s" * 40, public_url="https://eyevsai.example")
    assert settings.resolved_secret_key() == "s" * 40


def test_development_generates_one_private_secret(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    key = settings.resolved_secret_key()
    assert len(key) >= 32 and load_settings(data_dir=tmp_path).resolved_secret_key() == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_environment_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/eyevsai")
    monkeypatch.setenv("EYEVSAI_SERVER_RATE_LIMITS__PER_IP", "7")
    monkeypatch.setenv("EYEVSAI_SERVER_OAUTH__GITHUB__CLIENT_ID", "id")
    monkeypatch.setenv("EYEVSAI_SERVER_OAUTH__GITHUB__CLIENT_SECRET", "secret")
    settings = load_settings(data_dir=tmp_path)
    assert settings.resolved_database_url() == "postgresql+psycopg://u:p@db/eyevsai"
    assert settings.rate_limits.per_ip == 7 and list(settings.enabled_oauth()) == ["github"]
    monkeypatch.setenv("EYEVSAI_SERVER_ACCESS_TOKEN_MINUTES", "0")
    with pytest.raises(SettingsError, match="access_token_minutes"):
        load_settings(data_dir=tmp_path)


@SQLITE_ONLY
def test_per_ip_rate_limit(make_client) -> None:
    api = make_client(rate_limits={"per_ip": 3, "window_s": 60})
    statuses = [api.get("/api/v1/ranked/packs").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("/api/v1/ranked/packs")
    assert refused.json() == {"detail": "Too many requests"} and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert api.get("/health").status_code == 200  # load balancers keep probing


@SQLITE_ONLY
def test_per_account_and_sign_in_limits(make_client) -> None:
    api = make_client(rate_limits={"per_account": 2, "auth_per_ip": 4})
    ada, bob = api.register("ada@example.org", confirm=False), api.register("bob@example.org", confirm=False)
    assert [api.get("/api/v1/me", token=ada["access_token"]).status_code for _ in range(3)] == [200, 200, 429]
    assert api.get("/api/v1/me", token=bob["access_token"]).status_code == 200  # counted per account
    logins = [
        api.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": "x"}).status_code for _ in range(3)
    ]
    assert logins == [401, 401, 429]  # two registrations + two logins used the IP's sign-in budget


@SQLITE_ONLY
def test_upload_limit_per_account(make_client) -> None:
    from tests.sync_server.test_games import upload_body

    api = make_client(rate_limits={"uploads_per_account": 2})
    token = api.register()["access_token"]
    assert [api.post("/api/v1/sessions", token=token, json=upload_body(2)).status_code for _ in range(3)] == [
        201,
        201,
        429,
    ]


@SQLITE_ONLY
def test_cors_only_for_configured_origins(make_client) -> None:
    api = make_client(cors_origins=["https://eyevsai.example"])
    preflight = {
        "Origin": "https://eyevsai.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = api.request("OPTIONS", "/api/v1/auth/login", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://eyevsai.example"
    other = api.get("/api/v1/ranked/packs", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    plain = make_client()
    assert "access-control-allow-origin" not in plain.get("/health", headers={"Origin": "https://x.example"}).headers


@SQLITE_ONLY
def test_requests_are_logged_as_json_with_their_id(api: ApiClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("sync_server")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        response = api.get("/api/v1/ranked/packs", headers={"X-Request-ID": "req-42"})
        bad_id = api.get("/health", headers={"X-Request-ID": "has spaces; and semicolons"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert response.headers["x-request-id"] == "req-42"
    replaced = bad_id.headers["x-request-id"]
    assert replaced != "has spaces; and semicolons" and len(replaced) == 16
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = next(line for line in lines if line.get("request_id") == "req-42")
    assert access["msg"] == "request" and access["path"] == "/api/v1/ranked/packs" and access["status"] == 200
    assert access["level"] == "info" and isinstance(access["duration_ms"], float)


@SQLITE_ONLY
def test_a_server_bug_answers_500_without_details(make_client, monkeypatch: pytest.MonkeyPatch) -> None:
    from sync_server import board_reads
    from sync_server.main import create_app

    plain = make_client()
    api = ApiClient(
        create_app(plain.app_state.settings, app_state=plain.app_state), plain.app_state, raise_app_exceptions=False
    )

    def broken(**_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(board_reads, "top", broken)
    try:
        response = api.get("/api/v1/leaderboards/fashion-mnist/easy/day")
    finally:
        api.close_client()
    assert response.status_code == 500 and response.json() == {"detail": "Internal server error"}
    assert "secret internals" not in response.text


@SQLITE_ONLY
def test_malformed_json_is_a_422_not_a_crash(api: ApiClient) -> None:
    response = api.post("/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    huge = api.post("/api/v1/auth/login", content=b"x" * 300_000, headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
    # Not even UTF-8 (found by the schema fuzzer: FastAPI answered an undocumented 400).
    binary = api.post("/api/v1/auth/login", content=b"\x01\xff", headers={"Content-Type": "application/json"})
    assert binary.status_code == 422 and binary.json()["detail"][0]["type"] == "json_invalid"


@SQLITE_ONLY
def test_unknown_query_parameters_are_refused(api: ApiClient) -> None:
    response = api.get("/api/v1/leaderboards/fashion-mnist/easy/day", params={"limt": "5"})
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert issue["loc"] == ["query", "limt"] and "at, cursor, limit" in issue["msg"]
    assert api.get("/health", params={"x": "1"}).status_code == 422
    assert api.get("/api/v1/leaderboards/fashion-mnist/easy/day", params={"limit": "5"}).status_code == 200


@SQLITE_ONLY
def test_server_refusals_use_the_validation_error_shape(api: ApiClient) -> None:
    """Every 422 has one body shape, whether pydantic or the server's own rules refused the input."""
    response = api.get("/api/v1/leaderboards/fashion-mnist/easy/day", params={"cursor": "garbage"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": [], "msg": "Invalid cursor; start again without one.", "type": "value_error"}]
    }


# -- the command line --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_server_starts_with_nothing_configured(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("EYEVSAI_SERVER_") and k not in ("DATABASE_URL", "SECRET_KEY", "ENV")
    }
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")  # where platformdirs puts the per-user data directory
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sync_server", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.json()["status"] == "ok" and health.json()["database"] == "sqlite"
        assert httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5).status_code == 200
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    data_dir = tmp_path / "xdg" / "eyevsai-server"
    assert (data_dir / "server.sqlite3").is_file(), output
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700  # password hashes and emails live here
    assert "Traceback" not in output
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line["msg"] == "server started" for line in logged)
    assert not any("color_message" in line for line in logged)  # no terminal colour codes in JSON logs


def test_migrate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sync_server.__main__ import main

    assert main(["migrate", "--data-dir", str(tmp_path)]) == 0
    assert "Database at revision" in capsys.readouterr().err
    assert (tmp_path / "server.sqlite3").is_file()


def test_bad_configuration_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync_server.__main__ import main

    monkeypatch.setenv("ENV", "production")
    assert main(["migrate", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "SECRET_KEY" in err and "Traceback" not in err
