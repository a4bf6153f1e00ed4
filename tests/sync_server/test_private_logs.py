"""Error logs carry no emails, password hashes or SQL parameters, whatever fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from sync_server import logs
from sync_server.logs import configure_logging, get_logger
from sync_server.main import build_app_state, create_app
from tests.sync_server.helpers import ApiClient

EMAIL, PASSWORD = "private.person@example.org", "correct horse staple"


@pytest.fixture
def failing_api(capsys, make_settings, clock) -> Iterator[ApiClient]:
    """A server whose failures answer as in production (a broken database: 503) instead of raising into the test; it
    logs to the stderr that `capsys` captures (hence that fixture first)."""
    settings = make_settings(log_level="INFO")
    if not settings.resolved_database_url().startswith("sqlite"):
        pytest.skip("the failures are provoked with SQLite triggers")
    app_state = build_app_state(settings, clock=clock)
    client = ApiClient(create_app(settings, app_state=app_state), app_state, raise_app_exceptions=False)
    yield client
    client.close()


def _fail_inserts_into(api: ApiClient, table: str) -> None:
    with api.app_state.engine.begin() as connection:
        connection.execute(
            # Not a constraint (that would be a clean 409): a statement that breaks, like a lost table or disk.
            text(f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} BEGIN DELETE FROM disk_gone; END")
        )


@pytest.mark.parametrize("table", ["users", "account_tokens"])
def test_a_failed_insert_logs_no_email_hash_or_parameters(failing_api: ApiClient, table: str, capsys) -> None:
    _fail_inserts_into(failing_api, table)
    response = failing_api.post("/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 503  # a database that fails is an outage to the client, never a 500
    logs.flush()  # the log thread writes what is queued
    log = capsys.readouterr().err
    assert "disk_gone" in log  # the failure itself is logged...
    assert EMAIL not in log and "$argon2" not in log and PASSWORD not in log  # ...its private data is not
    assert "[SQL parameters hidden due to hide_parameters=True]" in log


@pytest.mark.parametrize("as_json", [True, False])
def test_emails_in_messages_are_scrubbed(capsys, as_json: bool) -> None:
    configure_logging("INFO", as_json=as_json)
    get_logger("test").warning("no account for %s", EMAIL, extra={"who": f'"{EMAIL}"'})
    logs.flush()  # the log thread writes what is queued
    log = capsys.readouterr().err
    assert EMAIL not in log and "no account for [email]" in log
