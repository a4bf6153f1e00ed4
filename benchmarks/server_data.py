"""Databases for the server benchmark: 100,000 players on one board in seconds, and a throwaway PostgreSQL.

Seeding goes straight into the database with bulk inserts (players, their finished ranked sessions, their entries
on the all-time board with sort keys, the board row and its per-score counts), as the server itself would have
stored them; through HTTP it would take most of an hour.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, select, text

from sync_server.leaderboards import ALL_TIME_START, Period, sort_key
from sync_server.models import GameSession, Leaderboard, LeaderboardEntry, LeaderboardScoreCount, User
from sync_server.security import Passwords
from sync_server.settings import Argon2Params

BOARD_DIFFICULTY = "medium"
LOGIN_PASSWORD = "bench password 1"
_CHUNK = 10_000


@dataclass(frozen=True)
class Seeded:
    """What the load phases need: players on the board (public id, sort key) and accounts that log in."""

    players: list[tuple[str, bytes]]
    login_emails: list[str]


def _result(rng: random.Random) -> tuple[int, int, int]:
    """(score, correct, total ms) of a plausible 10-round medium session: many ties on score, few on time."""
    correct = sum(rng.random() < 0.7 for _ in range(10))
    times = [rng.randrange(800, 15_000) for _ in range(10)]
    score = sum(20 + max(0, 5 - t // 2000) for t in times[:correct])
    return score, correct, sum(times)


def seed_board(engine: Engine, pack_id: str, players: int, *, logins: int = 16, seed: int = 11) -> Seeded:
    """`players` players, each with one finished ranked session on the pack's all-time medium board."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # The server's default cost (logins pay it); waiting up to a minute for the niced hashing thread, which a
    # busy machine can starve past the server's default wait.
    login_hash = Passwords(Argon2Params(wait_s=60)).hash(LOGIN_PASSWORD)
    with engine.begin() as connection:
        first_id = (connection.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0) + 1
        board_id = connection.execute(
            insert(Leaderboard).values(
                pack_id=pack_id,
                difficulty=BOARD_DIFFICULTY,
                period=Period.all.value,
                period_start=ALL_TIME_START,
                size=players,
                version=1,
            )
        ).inserted_primary_key[0]
        seeded, emails, scores = [], [], Counter()
        for start in range(0, players, _CHUNK):
            users, games, entries = [], [], []
            for user_id in range(first_id + start, first_id + min(players, start + _CHUNK)):
                public_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                is_login = len(emails) < logins
                email = f"bench{user_id}@example.org" if is_login else None
                users.append(_user(user_id, public_id, email, login_hash if is_login else None, now))
                emails += [email] if email else []
                score, correct, total_ms = _result(rng)
                achieved = now - dt.timedelta(seconds=rng.randrange(365 * 86_400))
                games.append(_game(user_id, pack_id, score, correct, total_ms, achieved))
                key = sort_key(
                    score=score,
                    accuracy=correct * 100_000,
                    total_time_ms=total_ms,
                    achieved_at=achieved,
                    user_id=user_id,
                )
                entries.append(_entry(users[-1], games[-1], board_id, key))
                seeded.append((public_id, key))
                scores[score] += 1
            connection.execute(insert(User), users)
            connection.execute(insert(GameSession), games)
            connection.execute(insert(LeaderboardEntry), entries)
        connection.execute(
            insert(LeaderboardScoreCount),
            [{"board_id": board_id, "score": score, "players": n} for score, n in scores.items()],
        )
        if engine.dialect.name == "postgresql":  # explicit ids do not move the sequences the server inserts with
            for table in ("users", "game_sessions"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, max(id)) FROM {table}"))
    # The planner's statistics, as a database that grew to this size has them (autovacuum's ANALYZE on PostgreSQL):
    # without them, 100,000 rows that appeared at once look like an empty table, and the first reads plan for one.
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return Seeded(seeded, emails)


def _user(user_id: int, public_id: str, email: str | None, password_hash: str | None, now: dt.datetime) -> dict:
    return {
        "id": user_id,
        "public_id": public_id,
        "email": email,
        "password_hash": password_hash,
        "display_name": f"Player {user_id}",
        "is_guest": email is None,
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }


def _game(user_id: int, pack_id: str, score: int, correct: int, total_ms: int, achieved: dt.datetime) -> dict:
    return {
        "id": user_id,  # one seeded session per player: the same numbers keep the entries' references simple
        "public_id": str(uuid.uuid4()),
        "user_id": user_id,
        "pack_id": pack_id,
        "difficulty": BOARD_DIFFICULTY,
        "mode": "ranked",
        "model_id": "seed",
        "is_verified": True,
        "status": "finished",
        "score": score,
        "correct": correct,
        "ai_correct": 0,
        "rounds_played": 10,
        "total_time_ms": total_ms,
        "started_at": achieved - dt.timedelta(seconds=total_ms // 1000 + 1),
        "finished_at": achieved,
        "created_at": achieved,
    }


def _entry(user: dict, game: dict, board_id: int, key: bytes) -> dict:
    """The all-time entry of a seeded player's one session."""
    return {
        "pack_id": game["pack_id"],
        "difficulty": BOARD_DIFFICULTY,
        "period": Period.all.value,
        "period_start": ALL_TIME_START,
        "user_id": user["id"],
        "board_id": board_id,
        "sort_key": key,
        "session_id": game["id"],
        "score": game["score"],
        "accuracy_ppm": game["correct"] * 100_000,
        "total_time_ms": game["total_time_ms"],
        "achieved_at": game["finished_at"],
        "player_public_id": user["public_id"],
        "display_name": user["display_name"],
        "rounds": game["rounds_played"],
        "session_public_id": game["public_id"],
    }


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@contextmanager
def throwaway_postgres() -> Iterator[str | None]:
    """A PostgreSQL server on a free loopback port for the run (as .ci/run starts one); None when there is none."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="eyevsai-bench-pg-"))
    as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    if as_pg:
        shutil.chown(root, "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data, options = root / "data", f"-h 127.0.0.1 -p {port} -k {root} -c max_connections=200"

    def run(*args: str) -> None:
        subprocess.run([*as_pg, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "eyevsai", "--no-sync")
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o", options, "start")
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "eyevsai", "eyevsai_bench")
    except (subprocess.SubprocessError, OSError):
        shutil.rmtree(root, ignore_errors=True)
        yield None
        return
    try:
        yield f"postgresql://eyevsai@127.0.0.1:{port}/eyevsai_bench"
    finally:
        subprocess.run(
            [*as_pg, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """An empty schema on a given PostgreSQL database (as the tests use one), dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
