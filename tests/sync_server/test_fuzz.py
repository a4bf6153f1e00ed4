"""Property-based fuzzing of the whole OpenAPI schema (schemathesis): no 5xx, and every answer matches the schema.

Valid and invalid requests are generated for every operation, signed in as a real account, against a server with
a ranked pack imported and an OAuth provider enabled; rate limits are off so that the fuzzer reaches the logic.
It runs on SQLite, and on PostgreSQL too when $EYEVSAI_TEST_POSTGRES_URL is set (as in CI), with fewer examples
there to keep the run bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from sync_server.main import build_app_state, create_app
from sync_server.settings import Settings
from tests.helpers.postgres import fresh_schema
from tests.sync_server.conftest import FAST_ARGON2
from tests.sync_server.helpers import ApiClient, import_bundled

pytestmark = pytest.mark.slow
EXAMPLES_PER_OPERATION = {"sqlite": 40, "postgresql": 20}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """The database kind and its URL (empty: SQLite in the data directory; else a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        yield "sqlite", ""
        return
    with fresh_schema("f") as (url, _admin, _schema):
        yield "postgresql", url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database: tuple[str, str]) -> Iterator[tuple[object, str, int]]:
    data: Path = tmp_path_factory.mktemp("fuzz")
    kind, url = database
    config = Settings(
        data_dir=data,
        database_url=url,
        argon2=FAST_ARGON2,
        log_level="ERROR",
        env="test",
        rate_limits={
            "per_ip": 0,
            "per_account": 0,
            "auth_per_ip": 0,
            "login_per_account": 0,
            "uploads_per_account": 0,
            "ranked_starts_per_account": 0,
        },
        oauth={
            "github": {
                "client_id": "fuzz",
                "client_secret": "fuzz",
                "authorize_url": "http://127.0.0.1:9/authorize",
                "token_url": "http://127.0.0.1:9/token",
                "userinfo_url": "http://127.0.0.1:9/user",
            }
        },
    )
    app_state = build_app_state(config)
    app = create_app(config, app_state=app_state)
    client = ApiClient(app, app_state)
    try:
        import_bundled(app_state)
        token = client.register("fuzz@example.org", confirm=False)["access_token"]
        yield app, token, EXAMPLES_PER_OPERATION[kind]
    finally:
        client.close()


def _fuzz(operation, mode: GenerationMode, token: str, examples: int) -> str | None:  # noqa: ANN001 - APIOperation
    """Run one operation's generated cases; the first failure's message, or None."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    def run(case) -> None:  # noqa: ANN001 - a schemathesis Case
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # nothing to vary (e.g. negative data for an operation without inputs)
        return None
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is collected and reported
        return f"{operation.label} ({mode.value}): {type(exc).__name__}: {str(exc)[:2000]}"
    return None


def test_the_api_holds_its_schema(server: tuple[object, str, int]) -> None:
    app, token, examples = server
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = [
        failure
        for operation in operations
        for mode in GenerationMode
        if (failure := _fuzz(operation, mode, token, examples)) is not None
    ]
    assert not failures, "\n\n".join(failures)
