"""Sync server load test on loopback: the real `eyevsai-server`, 1 and 2 uvicorn workers, SQLite and PostgreSQL.

Each database is migrated, given the bundled pack's ranked data (`eyevsai-server import-pack` with stand-in labels
and the bundled models' real prediction tables) and seeded with `players` players on one all-time board (bulk
inserts, benchmarks/server_data.py). Then, per worker count, fixed-duration closed-loop phases measure the top page
of that board, deep cursor pages, around-me of random players, session uploads, ranked rounds (next + answer) and
logins (argon2 at the server's defaults). Each row gives requests/s, client-measured p50/p99, the CPU each request
cost the server and the load generator, and the 1-minute load average when the phase ended: the client runs on
the same CPUs, and other jobs on a shared machine show up there. Afterwards the rows are counted: every
acknowledged upload and ranked answer stored exactly once, or the run fails.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from rich.table import Table
from sqlalchemy import create_engine, text

from classifiers.errors import EyeVsAIError
from classifiers.pack import open_pack
from sync_server.db import migrate
from sync_server.security import AccessTokens

from .http_load import Connection, Job, Recorder, group_cpu_s, named_cpu_s, own_cpu_s, run_closed_loop
from .server_data import BOARD_DIFFICULTY, LOGIN_PASSWORD, Seeded, fresh_schema, seed_board
from .workload import DEFAULT_PACK, bundled_model_dirs

RANKED_IMAGES = 60
ROUNDS = 10
OPTIONS = ["ankle boot", "bag", "coat", "dress"]
API = "/api/v1"
SECRET = "benchmark-secret-" + "x" * 32
ISSUER = "http://127.0.0.1:8000"  # the server's default public URL: tokens minted here must name it
BOARD = f"{API}/leaderboards/{DEFAULT_PACK}/{BOARD_DIFFICULTY}/all"
# Around-me asks for players in turn from this many (more than a phase asks for: each request is a player the server
# has not seen, so neither its verified-token memory nor its page cache helps), and, in a second phase, for these few
# again and again (the page cache's case: a board that has not changed since the player last looked).
AROUND_PLAYERS = 20_000
RETURNING_PLAYERS = 200


class ServerBenchError(EyeVsAIError):
    """The load test could not run, or requests were lost or duplicated."""


@dataclass(frozen=True)
class ServerResult:
    database: str
    workers: int
    kind: str
    requests: int
    failed: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float  # per request, every process of the server
    client_cpu_ms: float  # per request, the load generator
    database_cpu_ms: float | None  # per request, the local PostgreSQL's processes (None: SQLite, in the server)
    load_1min: float


@dataclass(frozen=True)
class ServerRun:
    players: int
    results: list[ServerResult]
    checks: list[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EYEVSAI_SERVER_") and k != "DATABASE_URL"}
    env.update(
        {
            "EYEVSAI_SERVER_DATA_DIR": str(data_dir),
            "EYEVSAI_SERVER_LOG_LEVEL": "WARNING",
            "EYEVSAI_SERVER_SECRET_KEY": SECRET,
            "EYEVSAI_SERVER_ACCESS_TOKEN_MINUTES": "120",
            "ENV": "development",
        }
    )
    # One loopback client is every player here: per-IP and per-account budgets would turn the test into a 429 test.
    for limit in ("PER_IP", "PER_ACCOUNT", "AUTH_PER_IP", "UPLOADS_PER_ACCOUNT", "RANKED_STARTS_PER_ACCOUNT"):
        env[f"EYEVSAI_SERVER_RATE_LIMITS__{limit}"] = "0"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _import_ranked(data_dir: Path, env: dict[str, str]) -> None:
    """Stand-in labels for the first ranked images, real prediction tables from the bundled models."""
    from classifiers.locations import bundled_assets_dir

    pack_dir = bundled_assets_dir() / "packs" / DEFAULT_PACK
    pack = open_pack(pack_dir)
    shas = sorted(entry.sha256 for entry in pack.available("ranked"))[:RANKED_IMAGES]
    labels = {sha: pack.classes[int(sha[:8], 16) % len(pack.classes)] for sha in shas}
    labels_file = data_dir / "ranked_labels.json"
    labels_file.write_text(json.dumps(labels), encoding="utf-8")
    models = [arg for model_dir in bundled_model_dirs() for arg in ("-m", str(model_dir))]
    done = subprocess.run(
        [sys.executable, "-m", "sync_server", "import-pack", str(pack_dir), "--labels", str(labels_file), *models],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise ServerBenchError(f"eyevsai-server import-pack failed: {done.stderr.strip()[-500:]}")


@contextmanager
def _running_server(env: dict[str, str], workers: int) -> Iterator[tuple[int, int]]:
    """(port, process group) of a server started for the block."""
    port = _free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "sync_server", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise ServerBenchError(f"The server did not start: {log.read().decode(errors='replace')[-800:]}")
            time.sleep(0.2)
        time.sleep(0.5 * workers)  # every worker up, not only the first to answer
        yield port, process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the whole group: uvicorn's workers too
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _upload_body(rng: random.Random) -> bytes:
    rounds = [
        {
            "image_sha256": f"{rng.getrandbits(256):064x}",
            "options": OPTIONS,
            "truth": rng.choice(OPTIONS),
            "player_answer": rng.choice(OPTIONS),
            "ai_answer": rng.choice(OPTIONS),
            "ai_confidence": rng.randrange(250, 1000),
            "elapsed_ms": rng.randrange(500, 15_000),
        }
        for _ in range(ROUNDS)
    ]
    body = {
        "client_session_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "pack_id": DEFAULT_PACK,
        "difficulty": rng.choice(["easy", "medium", "hard"]),
        "mode": "classic",
        "model_id": "fashion-mnist-shallow-svm",
        "started_at": "2026-01-01T12:00:00Z",
        "finished_at": "2026-01-01T12:03:00Z",
        "rounds": rounds,
    }
    return json.dumps(body).encode()


class _Load:
    """The request kinds; each job is one logical action and records its latency under its kind."""

    def __init__(self, seeded: Seeded, tokens: list[str], seed: int = 7) -> None:
        self.seeded, self.tokens, self.rng = seeded, tokens, random.Random(seed)
        self.returning = tokens[:RETURNING_PLAYERS]
        self.rec = Recorder()
        self.uploads = self.rounds = 0  # acknowledged, over the whole run

    async def top(self, connection: Connection, _n: int) -> None:
        await self.rec.call("top page", connection, "GET", f"{BOARD}?limit=25")

    async def cursor_page(self, connection: Connection, _n: int) -> None:
        _player, key = self.rng.choice(self.seeded.players)
        cursor = base64.urlsafe_b64encode(key).decode()
        await self.rec.call("cursor page (random depth)", connection, "GET", f"{BOARD}?limit=25&cursor={cursor}")

    async def around(self, connection: Connection, n: int) -> None:
        token = self.tokens[n % len(self.tokens)]  # a player not seen before (until the list comes round again)
        await self.rec.call("around-me (new player)", connection, "GET", f"{BOARD}/around-me", token=token)

    async def around_again(self, connection: Connection, n: int) -> None:
        token = self.returning[n % len(self.returning)]  # players looking again at a board that has not changed
        await self.rec.call("around-me (returning player)", connection, "GET", f"{BOARD}/around-me", token=token)

    async def upload(self, connection: Connection, n: int) -> None:
        body, token = _upload_body(self.rng), self.tokens[n % len(self.tokens)]
        if await self.rec.call("upload", connection, "POST", f"{API}/sessions", token=token, body=body, expect=201):
            self.uploads += 1

    async def ranked(self, connection: Connection, n: int) -> None:
        token = self.tokens[n % len(self.tokens)]
        start = {"pack_id": DEFAULT_PACK, "difficulty": "medium"}
        path = f"{API}/ranked/sessions"
        started = await self.rec.call(
            "ranked start", connection, "POST", path, token=token, body=json.dumps(start).encode(), expect=201
        )
        if started is None:
            return
        session = json.loads(started)
        seed = json.dumps({"client_seed": f"{self.rng.getrandbits(128):032x}"}).encode()  # after the seed hash
        if (
            await self.rec.call(
                "ranked seed", connection, "POST", f"{path}/{session['id']}/seed", token=token, body=seed
            )
            is None
        ):
            return
        for _ in range(session["rounds_total"]):
            began = time.perf_counter()
            dealt = await self.rec.call("ranked next", connection, "POST", f"{path}/{session['id']}/next", token=token)
            if dealt is None:
                return
            round_ = json.loads(dealt)
            answer = json.dumps({"answer": self.rng.choice(round_["options"])}).encode()
            answered = await self.rec.call(
                "ranked answer",
                connection,
                "POST",
                f"{path}/{session['id']}/rounds/{round_['number']}/answer",
                token=token,
                body=answer,
            )
            if answered is None:
                return
            self.rec.samples["ranked round (next + answer)"].append(time.perf_counter() - began)
            self.rounds += 1

    async def login(self, connection: Connection, n: int) -> None:
        email = self.seeded.login_emails[n % len(self.seeded.login_emails)]
        body = json.dumps({"email": email, "password": LOGIN_PASSWORD}).encode()
        await self.rec.call("login", connection, "POST", f"{API}/auth/login", body=body)


def _phases(load: _Load) -> list[tuple[str, Job, int, float]]:
    """(kind to report, job, concurrency, share of the phase time)."""
    return [
        ("top page", load.top, 16, 1.0),
        ("cursor page (random depth)", load.cursor_page, 16, 0.6),
        ("around-me (new player)", load.around, 16, 1.0),
        ("around-me (returning player)", load.around_again, 16, 0.6),
        ("upload", load.upload, 8, 0.6),
        ("ranked round (next + answer)", load.ranked, 8, 0.8),
        ("login", load.login, 4, 0.8),
    ]


def _row(
    database: str, workers: int, kind: str, rec: Recorder, seconds: float, cpu: tuple[float, float, float | None]
) -> ServerResult:
    samples = rec.samples.get(kind) or [0.0]
    count = len(rec.samples.get(kind, []))
    requests = max(1, sum(len(s) for name, s in rec.samples.items() if "(next + answer)" not in name))
    ms = np.array(samples) * 1000
    return ServerResult(
        database,
        workers,
        kind,
        count,
        sum(rec.failed.values()),
        round(seconds, 2),
        round(count / seconds, 1),
        round(float(np.percentile(ms, 50)), 2),
        round(float(np.percentile(ms, 99)), 2),
        round(cpu[0] * 1000 / requests, 3),
        round(cpu[1] * 1000 / requests, 3),
        None if cpu[2] is None else round(cpu[2] * 1000 / requests, 3),
        round(os.getloadavg()[0], 2),
    )


def _measure_workers(
    database: str, env: dict[str, str], workers: int, load: _Load, seconds: float
) -> list[ServerResult]:
    results = []
    with _running_server(env, workers) as (port, group):
        for kind, job, concurrency, share in _phases(load):
            load.rec = Recorder()
            run_closed_loop("127.0.0.1", port, job, concurrency=concurrency, seconds=min(1.0, seconds / 4))  # warm
            load.rec = Recorder()
            server0, client0, database0 = group_cpu_s(group), own_cpu_s(), _database_cpu_s(database)
            wall = run_closed_loop("127.0.0.1", port, job, concurrency=concurrency, seconds=seconds * share)
            database1 = _database_cpu_s(database)
            used = None if database0 is None or database1 is None else database1 - database0
            cpu = (group_cpu_s(group) - server0, own_cpu_s() - client0, used)
            if load.rec.problems:
                raise ServerBenchError(f"{database}, {workers} worker(s): " + "; ".join(load.rec.problems))
            results.append(_row(database, workers, kind, load.rec, wall, cpu))
    return results


def _database_cpu_s(database: str) -> float | None:
    """CPU seconds of the PostgreSQL processes on this machine (None for SQLite, or a PostgreSQL elsewhere)."""
    if database != "postgresql":
        return None
    return named_cpu_s("postgres") or None


def _counts(url: str) -> tuple[int, int]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            uploads = connection.scalar(text("SELECT count(*) FROM game_sessions WHERE mode = 'classic'"))
            rounds = connection.scalar(text("SELECT count(*) FROM session_rounds WHERE answered_at IS NOT NULL"))
        return int(uploads or 0), int(rounds or 0)
    finally:
        engine.dispose()


def _verify(database: str, load: _Load, counts: tuple[int, int]) -> str:
    if counts != (load.uploads, load.rounds):
        raise ServerBenchError(
            f"{database}: {counts[0]} uploads and {counts[1]} answered rounds stored, but {load.uploads} and "
            f"{load.rounds} were acknowledged: requests were lost or duplicated"
        )
    return f"{database}: {load.uploads} uploads and {load.rounds} ranked answers acknowledged, each stored once"


def _measure_database(
    database: str, url: str | None, workers: Sequence[int], players: int, seconds: float
) -> tuple[list[ServerResult], str]:
    with tempfile.TemporaryDirectory(prefix="eyevsai-server-bench-") as tmp:
        data_dir = Path(tmp)
        env = _server_env(data_dir, url)
        url = url or f"sqlite:///{data_dir / 'server.sqlite3'}"
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            migrate(engine)
            _import_ranked(data_dir, env)
            seeded = seed_board(engine, DEFAULT_PACK, players)
        finally:
            engine.dispose()
        minter = AccessTokens(secret=SECRET, minutes=120, issuer=ISSUER)
        sample = random.Random(5).sample(seeded.players, min(AROUND_PLAYERS, len(seeded.players)))
        load = _Load(seeded, [minter.issue(public_id)[0] for public_id, _key in sample])
        results = [row for w in workers for row in _measure_workers(database, env, w, load, seconds)]
        return results, _verify(database, load, _counts(url))


def measure_server(
    *,
    workers: Sequence[int] = (1, 2),
    players: int = 100_000,
    seconds: float = 5.0,
    postgres_url: str | None = None,
    sqlite: bool = True,
) -> ServerRun:
    """Run the phases against each database and worker count; see the module docstring.

    Args:
        seconds: the length of the longest phase (the others take a share of it).
        postgres_url: a PostgreSQL database to run against too (in a new schema, dropped afterwards).

    Raises:
        ServerBenchError: the server did not start, or a request was lost, duplicated or refused.
    """
    results, checks = [], []
    if sqlite:
        rows, check = _measure_database("sqlite", None, workers, players, seconds)
        results, checks = results + rows, checks + [check]
    if postgres_url:
        with fresh_schema(postgres_url) as url:
            rows, check = _measure_database("postgresql", url, workers, players, seconds)
        results, checks = results + rows, checks + [check]
    return ServerRun(players, results, checks)


def server_table(run: ServerRun) -> Table:
    table = Table(
        title=f"Sync server on loopback, {run.players:,} players on one board; the load generator and PostgreSQL "
        "share the CPUs (latency client-measured; CPU = ms per request of the server, of the local PostgreSQL's "
        "processes and of the load generator; load = 1-minute load average at the end)",
        title_justify="left",
        caption="; ".join(run.checks),
        caption_justify="left",
    )
    columns = ("database", "workers", "request", "requests", "failed", "req/s", "p50 ms", "p99 ms")
    for column in (*columns, "server CPU", "db CPU", "client CPU", "load"):
        table.add_column(column, justify="left" if column in ("database", "request") else "right")
    for r in run.results:
        table.add_row(
            r.database,
            str(r.workers),
            r.kind,
            str(r.requests),
            str(r.failed),
            f"{r.requests_per_s:.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{r.server_cpu_ms:.2f}",
            "-" if r.database_cpu_ms is None else f"{r.database_cpu_ms:.2f}",
            f"{r.client_cpu_ms:.2f}",
            f"{r.load_1min:.2f}",
        )
    return table
