"""A login flood does not stall uploads: argon2 runs outside transactions and in a bounded pool.

The real server (uvicorn, one worker, SQLite, argon2 at its production cost) takes a flood of 16 concurrent
logins while 4 clients upload sessions. Before the fix the flood held SQLite's write lock during every hash and
uploads fell from 141/s to 0.8/s with a p99 of 17 s (docs review server.md §3). The bound stated here: the upload
p99 stays under UPLOAD_P99_BOUND_S, and no answer is a 5xx other than the pool's 503 with Retry-After.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.sync_server.test_games import upload_body

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
FLOOD_S = 6.0
LOGIN_THREADS, UPLOAD_THREADS = 16, 4
UPLOAD_P99_BOUND_S = 1.5  # measured 0.81 s (p50 0.06 s) at load average 12 on 2 cores; was 17 s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EYEVSAI_SERVER_")}
    env.pop("DATABASE_URL", None)
    env.update(
        PYTHONPATH=str(REPO),
        EYEVSAI_SERVER_LOG_LEVEL="ERROR",
        EYEVSAI_SERVER_ACCESS_TOKEN_MINUTES="60",
        # Off so that the flood reaches the hashing (the limits are tested elsewhere).
        **{f"EYEVSAI_SERVER_RATE_LIMITS__{name}": "0" for name in ("PER_IP", "PER_ACCOUNT", "AUTH_PER_IP")},
        **{f"EYEVSAI_SERVER_RATE_LIMITS__{name}": "0" for name in ("LOGIN_PER_ACCOUNT", "UPLOADS_PER_ACCOUNT")},
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sync_server", "serve", "--port", str(port), "--data-dir", str(tmp_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def flood_logins(server: str, seconds: float, threads: int) -> None:
    """The attacker, in a process of its own (so its threads do not share the measuring process's GIL)."""

    def one_client() -> None:
        deadline = time.monotonic() + seconds
        with httpx.Client(base_url=server, timeout=30) as client:
            while time.monotonic() < deadline:
                answer = client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": "guessing"})
                assert answer.status_code in (401, 503), answer.text
                if answer.status_code == 503:
                    assert int(answer.headers["Retry-After"]) >= 1

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(one_client) for _ in range(threads)]:
            future.result()


def test_uploads_keep_flowing_during_a_login_flood(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        client.post("/api/v1/auth/register", json={"email": "ada@example.org", "password": "correct horse"})
        token = client.post("/api/v1/auth/guest", json={}).json()["access_token"]
    attacker = multiprocessing.get_context("spawn").Process(
        target=flood_logins, args=(server, FLOOD_S + 2.0, LOGIN_THREADS)
    )
    attacker.start()
    stop = threading.Event()
    upload_times: list[float] = []
    statuses: list[int] = []

    def upload() -> None:
        with httpx.Client(base_url=server, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
            while not stop.is_set():
                started = time.monotonic()
                answer = client.post("/api/v1/sessions", json=upload_body(10))
                upload_times.append(time.monotonic() - started)
                statuses.append(answer.status_code)

    time.sleep(1.0)  # the flood is on before the uploads start
    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        futures = [pool.submit(upload) for _ in range(UPLOAD_THREADS)]
        time.sleep(FLOOD_S)
        stop.set()
        for future in futures:
            future.result()
    attacker.join(30)
    assert attacker.exitcode == 0  # every login answer was a 401 or the pool's 503 with Retry-After
    assert len(upload_times) >= 20, f"only {len(upload_times)} uploads in {FLOOD_S} s"
    p50, p99 = _percentile(upload_times, 0.5), _percentile(upload_times, 0.99)
    print(f"{len(upload_times)} uploads in {FLOOD_S} s during the flood: p50 {p50:.3f} s, p99 {p99:.3f} s")
    assert p99 < UPLOAD_P99_BOUND_S, f"upload p99 {p99:.2f} s over {len(upload_times)} uploads"
    assert set(statuses) == {201}
