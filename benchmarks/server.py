"""Sync server load test on loopback: the real `eyevsai-server` with N uvicorn workers, driven by concurrent clients.

Runs phases one after another (offline session uploads, whole ranked sessions, leaderboard reads, then all three
mixed), each a fixed number of requests from `concurrency` concurrent clients, and reports requests/s and
client-measured p50/p99 latency per request kind. Afterwards it counts the rows in the database: every distinct
upload stored exactly once (retried uploads must answer 200 with the same session), every ranked session finished
with all its rounds; anything lost or duplicated fails the run.

The client runs on the same machine as the server and shares its CPUs, so the figures are a floor for a server
with the machine to itself. Ranked play needs the pack's ranked labels, which are not shipped with the game pack;
the benchmark imports stand-in labels (any label among the classes serves to measure throughput) together with the
bundled models' real prediction tables, computed by `eyevsai-server import-pack` with ONNX Runtime.
"""

from __future__ import annotations

import asyncio
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
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from rich.table import Table

from classifiers.errors import EyeVsAIError
from classifiers.pack import open_pack

from .workload import DEFAULT_PACK, bundled_model_dirs

PACK_DIR_NAME = DEFAULT_PACK
RANKED_IMAGES = 60
ROUNDS = 10
OPTIONS = ["ankle boot", "bag", "coat", "dress"]
API = "/api/v1"


class ServerBenchError(EyeVsAIError):
    """The load test could not run, or requests were lost or duplicated."""


@dataclass(frozen=True)
class ServerResult:
    phase: str
    kind: str
    requests: int
    failed: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class ServerRun:
    workers: int
    database: str
    concurrency: int
    results: list[ServerResult]
    checks: list[str]


class _Recorder:
    """Latency samples per request kind; a request with an unexpected status (or none) counts as failed."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.failed: dict[str, int] = defaultdict(int)
        self.problems: list[str] = []

    async def call(
        self, kind: str, request: Awaitable[httpx.Response], expect: tuple[int, ...] = (200,)
    ) -> httpx.Response | None:
        began = time.perf_counter()
        try:
            response = await request
        except httpx.HTTPError as exc:
            self.failed[kind] += 1
            self.problems.append(f"{kind}: {type(exc).__name__}: {exc}")
            return None
        self.samples[kind].append(time.perf_counter() - began)
        if response.status_code not in expect:
            self.failed[kind] += 1
            self.problems.append(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
            return None
        return response


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EYEVSAI_SERVER_") and k != "DATABASE_URL"}
    env.update({"EYEVSAI_SERVER_DATA_DIR": str(data_dir), "EYEVSAI_SERVER_LOG_LEVEL": "WARNING", "ENV": "development"})
    # One loopback client is every player here: per-IP and per-account budgets would turn the test into a 429 test.
    for limit in ("PER_IP", "PER_ACCOUNT", "AUTH_PER_IP", "UPLOADS_PER_ACCOUNT", "RANKED_STARTS_PER_ACCOUNT"):
        env[f"EYEVSAI_SERVER_RATE_LIMITS__{limit}"] = "0"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _import_ranked(data_dir: Path, env: dict[str, str]) -> None:
    """Stand-in labels for the first ranked images and the bundled models (the server runs them)."""
    from classifiers.locations import bundled_assets_dir

    pack_dir = bundled_assets_dir() / "packs" / PACK_DIR_NAME
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
def _running_server(env: dict[str, str], workers: int) -> Iterator[str]:
    port = _free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "sync_server", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise ServerBenchError(f"The server did not start: {log.read().decode(errors='replace')[-800:]}")
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the whole group: uvicorn's workers too
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _upload_body(rng: random.Random) -> dict:
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
    return {
        "client_session_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "pack_id": DEFAULT_PACK,
        "difficulty": rng.choice(["easy", "medium", "hard"]),
        "mode": "classic",
        "model_id": "fashion-mnist-shallow-svm",
        "started_at": "2026-01-01T12:00:00Z",
        "finished_at": "2026-01-01T12:03:00Z",
        "rounds": rounds,
    }


class _Load:
    """The three workloads; each job is one logical action (an upload, a whole ranked session, a board read)."""

    def __init__(self, players: list[dict], recorder: _Recorder, seed: int = 7) -> None:
        self.players, self.rec, self.rng = players, recorder, random.Random(seed)
        self.uploaded: dict[str, dict] = {}  # client session id → body
        self.retries = 0
        self.ranked_sessions: list[str] = []

    def _auth(self, player: dict) -> dict[str, str]:
        return {"Authorization": f"Bearer {player['access_token']}"}

    async def upload(self, client: httpx.AsyncClient, player: dict, *, retry: bool) -> None:
        if retry and self.uploaded:  # an outbox resending after a lost reply: same body, same account
            session_id = self.rng.choice(list(self.uploaded))
            body, player = self.uploaded[session_id], self.uploaded[session_id]["_player"]
            self.retries += 1
            response = await self.rec.call(
                "POST /sessions (retry)",
                client.post(
                    f"{API}/sessions",
                    json={k: v for k, v in body.items() if k != "_player"},
                    headers=self._auth(player),
                ),
            )
            if response is not None and response.json()["id"] != session_id:
                self.rec.problems.append(f"retry of {session_id} answered another session")
            return
        body = _upload_body(self.rng)
        response = await self.rec.call(
            "POST /sessions", client.post(f"{API}/sessions", json=body, headers=self._auth(player)), expect=(201,)
        )
        if response is not None:
            self.uploaded[body["client_session_id"]] = {**body, "_player": player}

    async def ranked(self, client: httpx.AsyncClient, player: dict) -> None:
        auth = self._auth(player)
        body = {"pack_id": DEFAULT_PACK, "difficulty": self.rng.choice(["easy", "medium", "hard"])}
        started = await self.rec.call(
            "POST /ranked/sessions", client.post(f"{API}/ranked/sessions", headers=auth, json=body), expect=(201,)
        )
        if started is None:
            return
        session_id = started.json()["id"]
        seed = {"client_seed": f"{self.rng.getrandbits(128):032x}"}  # sent after the server's seed hash
        seeded = await self.rec.call(
            "POST …/seed", client.post(f"{API}/ranked/sessions/{session_id}/seed", headers=auth, json=seed)
        )
        if seeded is None:
            return
        self.ranked_sessions.append(session_id)
        for _ in range(started.json()["rounds_total"]):
            dealt = await self.rec.call(
                "POST …/next", client.post(f"{API}/ranked/sessions/{session_id}/next", headers=auth)
            )
            if dealt is None:
                return
            round_ = dealt.json()
            answer = self.rng.choice(round_["options"])
            await self.rec.call(
                "POST …/answer",
                client.post(
                    f"{API}/ranked/sessions/{session_id}/rounds/{round_['number']}/answer",
                    headers=auth,
                    json={"answer": answer},
                ),
            )

    async def read(self, client: httpx.AsyncClient, player: dict) -> None:
        board = (
            f"{API}/leaderboards/{DEFAULT_PACK}/{self.rng.choice(['easy', 'medium', 'hard'])}/"
            f"{self.rng.choice(['day', 'week', 'month', 'all'])}"
        )
        if self.rng.random() < 0.25:
            await self.rec.call("GET board/around-me", client.get(f"{board}/around-me", headers=self._auth(player)))
        else:
            await self.rec.call("GET board", client.get(board, params={"limit": 25}))


Job = Callable[[httpx.AsyncClient, dict], Awaitable[None]]


async def _run_jobs(base: str, jobs: list[Job], players: list[dict], concurrency: int) -> float:
    """Run the jobs with `concurrency` clients pulling from one queue; returns the wall time."""
    queue: asyncio.Queue[tuple[int, Job]] = asyncio.Queue()
    for item in enumerate(jobs):
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                index, job = queue.get_nowait()
                await job(client, players[index % len(players)])

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - began


def _results(phase: str, recorder: _Recorder, seconds: float) -> list[ServerResult]:
    rows = []
    for kind, samples in sorted(recorder.samples.items()):
        ms = np.array(samples) * 1000
        rows.append(
            ServerResult(
                phase,
                kind,
                len(samples),
                recorder.failed[kind],
                round(seconds, 2),
                round(len(samples) / seconds, 1),
                round(float(np.percentile(ms, 50)), 2),
                round(float(np.percentile(ms, 99)), 2),
            )
        )
    total = sum(len(s) for s in recorder.samples.values())
    if len(recorder.samples) > 1:
        every = np.concatenate([np.array(s) for s in recorder.samples.values()]) * 1000
        rows.append(
            ServerResult(
                phase,
                "all",
                total,
                sum(recorder.failed.values()),
                round(seconds, 2),
                round(total / seconds, 1),
                round(float(np.percentile(every, 50)), 2),
                round(float(np.percentile(every, 99)), 2),
            )
        )
    return rows


def _phases(load: _Load, uploads: int, ranked_sessions: int, reads: int) -> list[tuple[str, list[Job]]]:
    def uploads_of(n: int) -> list[Job]:
        # Every tenth upload is a retry of an earlier one (an outbox resending after a lost reply).
        return [lambda c, p, retry=(i % 10 == 9): load.upload(c, p, retry=retry) for i in range(n)]

    mixed = uploads_of(uploads // 4) + [load.ranked] * max(1, ranked_sessions // 4) + [load.read] * (reads // 4)
    random.Random(3).shuffle(mixed)
    return [
        ("uploads", uploads_of(uploads)),
        ("ranked sessions", [load.ranked] * ranked_sessions),
        ("leaderboard reads", [load.read] * reads),
        ("mixed", mixed),
    ]


def _count_rows(database_url: str, player_ids: list[str]) -> dict[str, int]:
    from sqlalchemy import bindparam, create_engine, text

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    users = "SELECT id FROM users WHERE public_id IN :players"
    queries = {
        "classic": f"SELECT count(*) FROM game_sessions WHERE mode = 'classic' AND user_id IN ({users})",
        "classic_distinct": f"SELECT count(DISTINCT public_id) FROM game_sessions WHERE mode = 'classic' "
        f"AND user_id IN ({users})",
        "ranked_finished": f"SELECT count(*) FROM game_sessions WHERE mode = 'ranked' AND status = 'finished' "
        f"AND user_id IN ({users})",
        "ranked_rounds": f"SELECT count(*) FROM session_rounds r JOIN game_sessions g ON g.id = r.session_id "
        f"WHERE g.mode = 'ranked' AND r.answered_at IS NOT NULL AND g.user_id IN ({users})",
    }
    try:
        with engine.connect() as connection:
            return {
                name: int(
                    connection.execute(
                        text(sql).bindparams(bindparam("players", expanding=True)), {"players": player_ids}
                    ).scalar_one()
                )
                for name, sql in queries.items()
            }
    finally:
        engine.dispose()


def _verify(load: _Load, counts: dict[str, int], problems: list[str]) -> list[str]:
    expected = {
        "classic": len(load.uploaded),
        "classic_distinct": len(load.uploaded),
        "ranked_finished": len(load.ranked_sessions),
        "ranked_rounds": ROUNDS * len(load.ranked_sessions),
    }
    wrong = [
        f"{name}: {counts[name]} rows, expected {value}" for name, value in expected.items() if counts[name] != value
    ]
    if wrong or problems:
        raise ServerBenchError("Requests were lost, duplicated or refused: " + "; ".join(wrong + problems[:5]))
    return [
        f"{counts['classic']} uploaded sessions stored once each ({load.retries} retries answered with the "
        f"stored session, no duplicate)",
        f"{counts['ranked_finished']} ranked sessions finished with {counts['ranked_rounds']} answered rounds",
        "every request answered with its expected status",
    ]


def measure_server(
    *,
    workers: int = 2,
    concurrency: int = 16,
    uploads: int = 400,
    ranked_sessions: int = 24,
    reads: int = 1200,
    players: int = 16,
    database_url: str | None = None,
) -> ServerRun:
    """Start the server with `workers` processes on loopback, run the phases, verify the rows; see the docstring.

    Args:
        database_url: a PostgreSQL URL to run against (an empty database, or one this benchmark may add to);
            default: SQLite in a temporary data directory.

    Raises:
        ServerBenchError: the server did not start, or a request was lost, duplicated or refused.
    """
    with tempfile.TemporaryDirectory(prefix="eyevsai-server-bench-") as tmp:
        data_dir = Path(tmp)
        env = _server_env(data_dir, database_url)
        _import_ranked(data_dir, env)
        url = database_url or f"sqlite:///{data_dir / 'server.sqlite3'}"
        with _running_server(env, workers) as base:
            guests = [
                httpx.post(f"{base}{API}/auth/guest", json={"display_name": f"Bench {i}"}, timeout=30).json()
                for i in range(players)
            ]
            load, results, problems = _Load(guests, _Recorder()), [], []
            for phase, jobs in _phases(load, uploads, ranked_sessions, reads):
                load.rec = _Recorder()  # one per phase: its own samples and wall time
                seconds = asyncio.run(_run_jobs(base, jobs, guests, concurrency))
                results += _results(phase, load.rec, seconds)
                problems += load.rec.problems
            counts = _count_rows(url, [g["user"]["id"] for g in guests])
        checks = _verify(load, counts, problems)
    database = "postgresql" if database_url else "sqlite"
    return ServerRun(workers, database, concurrency, results, checks)


def server_table(run: ServerRun) -> Table:
    table = Table(
        title=f"Sync server on loopback: {run.workers} uvicorn worker(s), {run.database}, "
        f"{run.concurrency} concurrent clients on the same CPUs (latency in ms, client-measured)",
        title_justify="left",
        caption="; ".join(run.checks),
        caption_justify="left",
    )
    for column in ("phase", "request", "requests", "failed", "seconds", "requests/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column in ("phase", "request") else "right")
    for r in run.results:
        table.add_row(
            r.phase,
            r.kind,
            str(r.requests),
            str(r.failed),
            f"{r.seconds:.1f}",
            f"{r.requests_per_s:.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
        )
    return table
