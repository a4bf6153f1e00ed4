"""Two real server processes (separate data directories) on one PostgreSQL, as two hosts behind a load balancer.

They start together: exactly one migrates. A token from one works on the other, and a rate limit is counted once
across both. The test client plays the load balancer by using the two ports in turn.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.helpers.postgres import fresh_schema

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
AUTH_PER_IP = 6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def schema_url() -> Iterator[tuple[str, object]]:
    """A PostgreSQL URL whose tables live in a fresh, empty schema (dropped afterwards)."""
    with fresh_schema("h") as (url, admin, schema):
        yield url, (admin, schema)


@pytest.fixture
def two_hosts(schema_url, tmp_path: Path) -> Iterator[tuple[list[str], list[subprocess.Popen], tuple]]:
    """Two `eyevsai-server serve` processes started at the same moment on one (empty) database."""
    url, admin = schema_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("EYEVSAI_SERVER_")}
    env.update(
        PYTHONPATH=str(REPO),
        DATABASE_URL=url,
        SECRET_KEY="one key shared by every host " + "k" * 16,  # several hosts must share the signing key
        EYEVSAI_SERVER_LOG_LEVEL="WARNING",
        EYEVSAI_SERVER_ARGON2__TIME_COST="1",
        EYEVSAI_SERVER_ARGON2__MEMORY_COST_KIB="1024",
        EYEVSAI_SERVER_ARGON2__PARALLELISM="1",
        EYEVSAI_SERVER_RATE_LIMITS__AUTH_PER_IP=str(AUTH_PER_IP),
    )
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "sync_server", "serve", "--port", str(port), "--data-dir", str(tmp_path / f"h{n}")],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for n, port in enumerate(ports)
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_healthy(port, process)
        yield [f"http://127.0.0.1:{port}" for port in ports], processes, admin
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.communicate(timeout=30)


def _wait_healthy(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server on port {port} did not start (exit code {process.poll()})")


def _start_of_a_fresh_window(window_s: int = 60, needed_s: float = 30.0) -> None:
    """Wait for the next rate-limit window when fewer than needed_s seconds are left in this one: the limits
    count per fixed window, and a burst crossing its end would start counting again."""
    left = window_s - time.time() % window_s
    if left < needed_s:
        time.sleep(left + 0.1)


def test_two_hosts_share_tokens_limits_and_one_migration(two_hosts) -> None:
    hosts, processes, (admin, schema) = two_hosts
    first, second = hosts
    _start_of_a_fresh_window()
    with httpx.Client(timeout=10) as client:
        pair = client.post(f"{first}/api/v1/auth/guest", json={}).json()
        me = client.get(f"{second}/api/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
        assert me.status_code == 200 and me.json()["id"] == pair["user"]["id"]  # a token from one works on the other
        renewed = client.post(f"{second}/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert renewed.status_code == 200

        # Two sign-in requests used so far; the rest of the per-IP budget is shared, whichever host answers.
        statuses = [client.post(f"{hosts[n % 2]}/api/v1/auth/guest", json={}).status_code for n in range(AUTH_PER_IP)]
    assert statuses == [201] * (AUTH_PER_IP - 2) + [429, 429]

    with admin.connect() as connection:
        connection.execute(text(f'SET search_path TO "{schema}"'))
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        counted = connection.execute(text("SELECT sum(count) FROM rate_limits WHERE key LIKE 'auth:%'")).scalar_one()
    assert counted == AUTH_PER_IP + 2

    for process in processes:
        process.terminate()
    outputs = [process.communicate(timeout=30)[0].decode() for process in processes]
    assert sum("Migrated the database" in output for output in outputs) == 1, outputs  # the other waited, then saw
    assert not any("Traceback" in output for output in outputs), outputs
