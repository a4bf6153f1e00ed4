"""Crowd statistics at scale: reading an image's statistics and a pack's aggregates with a million stored ranked
rounds (`python -m benchmarks --only crowd`).

Seeds an SQLite server database with bulk inserts (players, sessions, rounds drawn from a simple confusion model),
folds them into the aggregate tables with `sync_server.crowd_rebuild.rebuild` (the backfill job; live play
folds each session as it ends), then times the reads both as function calls and as HTTP requests through the
in-process app. The reads touch only the aggregate tables, so their cost does not grow with the rounds; the
target is p99 < 20 ms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

from .timing import time_calls

CLASSES = [f"class {i}" for i in range(10)]
PACK, MODELS = "bench-pack", ("bench-easy", "bench-hard")
ROUNDS_PER_SESSION, OPTIONS = 10, 4
TARGET_P99_MS = 20.0


@dataclass(frozen=True)
class CrowdRead:
    kind: str
    reads: int
    p50_ms: float
    p99_ms: float

    @property
    def is_fast(self) -> bool:
        return self.p99_ms < TARGET_P99_MS


@dataclass(frozen=True)
class CrowdRun:
    rounds: int
    images: int
    players: int
    seed_s: float
    fold_s: float
    reads: list[CrowdRead]


def _sha(i: int) -> str:
    return hashlib.sha256(f"bench-image-{i}".encode()).hexdigest()


def _seed_catalog(session, images: int, players: int, now: dt.datetime) -> None:  # noqa: ANN001 - Session
    from sync_server.models import AiModel, Pack, RankedImage, User

    session.execute(
        Pack.__table__.insert(),
        [{"id": PACK, "title": "Benchmark pack", "classes": CLASSES, "created_at": now, "updated_at": now}],
    )
    labels = [{"pack_id": PACK, "sha256": _sha(i), "label": CLASSES[i % len(CLASSES)]} for i in range(images)]
    session.execute(RankedImage.__table__.insert(), labels)
    model_rows = [
        {"id": m, "pack_id": PACK, "title": m, "difficulty": d, "onnx_sha256": "0" * 64, "classes": CLASSES}
        | {"is_active": True, "created_at": now}
        for m, d in zip(MODELS, ("easy", "hard"), strict=True)
    ]
    session.execute(AiModel.__table__.insert(), model_rows)
    user = {"is_guest": True, "is_active": True, "created_at": now, "updated_at": now}
    session.execute(
        User.__table__.insert(),
        [{**user, "public_id": f"00000000-0000-4000-8000-{i:012d}", "display_name": f"P{i}"} for i in range(players)],
    )


def _seed_rounds(session, rounds: int, images: int, players: int, rng: np.random.Generator, now: dt.datetime) -> None:  # noqa: ANN001
    """Sessions of 10 rounds: people right with an image-dependent chance (mean ~0.83), the AI with 0.9."""
    from sync_server.models import GameSession, SessionRound

    hardness = rng.beta(5, 1, size=images)  # each image's chance that a person answers right
    sessions, chunk = rounds // ROUNDS_PER_SESSION, 5_000
    for start in range(0, sessions, chunk):
        ids = range(start + 1, min(sessions, start + chunk) + 1)
        game_rows, round_rows = [], []
        for sid in ids:
            finished = now + dt.timedelta(seconds=sid)
            game_rows.append(
                {
                    "id": sid,
                    "public_id": f"10000000-0000-4000-8000-{sid:012d}",
                    "user_id": int(rng.integers(1, players + 1)),
                    "pack_id": PACK,
                    "difficulty": "easy",
                    "mode": "ranked",
                    "model_id": MODELS[sid % 2],
                    "is_verified": True,
                    "status": "finished",
                    "ended_as": "finished",
                    "fast_answers": 0,
                    "score": 0,
                    "correct": 0,
                    "ai_correct": 0,
                    "rounds_played": ROUNDS_PER_SESSION,
                    "total_time_ms": 0,
                    "started_at": finished,
                    "finished_at": finished,
                    "created_at": finished,
                }
            )
            picks = rng.choice(images, size=ROUNDS_PER_SESSION, replace=False)
            for number, image in enumerate(picks, start=1):
                truth = int(image) % len(CLASSES)
                others = [(truth + k) % len(CLASSES) for k in rng.choice(np.arange(1, len(CLASSES)), 3, replace=False)]
                options = [CLASSES[c] for c in sorted([truth, *others])]
                wrong = CLASSES[others[0]]
                human = CLASSES[truth] if rng.random() < hardness[image] else wrong
                round_rows.append(
                    {
                        "session_id": sid,
                        "number": number,
                        "image_sha256": hashlib.sha256(f"{sid}-{number}".encode()).hexdigest(),
                        "source_sha256": _sha(int(image)),
                        "options": options,
                        "truth": CLASSES[truth],
                        "player_answer": human,
                        "is_correct": human == CLASSES[truth],
                        "ai_answer": CLASSES[truth] if rng.random() < 0.9 else wrong,
                        "ai_confidence": 800,
                        "elapsed_ms": int(rng.lognormal(7.8, 0.4)),
                        "timed_out": False,
                    }
                )
        session.execute(GameSession.__table__.insert(), game_rows)
        session.execute(SessionRound.__table__.insert(), round_rows)


def _time_reads(url: str, data_dir: Path, reads: int, images: int, rng: np.random.Generator) -> list[CrowdRead]:
    from fastapi.testclient import TestClient

    from sync_server import crowd_stats
    from sync_server.main import create_app
    from sync_server.settings import RateLimits, Settings

    # One client makes every read: a per-IP budget it cannot exhaust (still counted, as in production).
    limits = RateLimits(per_ip=10_000_000)
    settings = Settings(
        data_dir=data_dir, database_url=url, env="test", log_level="WARNING", auto_migrate=False, rate_limits=limits
    )
    app = create_app(settings)
    factory = app.state.app_state.db_sessions
    picks = iter(rng.integers(0, images, size=10 * reads + 10))

    def image_call() -> None:
        with factory() as session:
            crowd_stats.image_stats(session=session, pack_id=PACK, image_sha256=_sha(int(next(picks))), min_players=5)

    def pack_call() -> None:
        with factory() as session:
            crowd_stats.pack_stats(session=session, pack_id=PACK, min_players=5)

    rows = []
    with TestClient(app) as client:
        calls = {
            "GET /ranked/public-key (HTTP, in-process: the app's floor)": lambda: client.get(
                "/api/v1/ranked/public-key"
            ).raise_for_status(),
            "image statistics (function)": image_call,
            "pack aggregates (function)": pack_call,
            "GET …/images/{sha} (HTTP, in-process)": lambda: client.get(
                f"/api/v1/stats/packs/{PACK}/images/{_sha(int(next(picks)))}"
            ).raise_for_status(),
            "GET …/packs/{pack} (HTTP, in-process)": lambda: client.get(
                f"/api/v1/stats/packs/{PACK}"
            ).raise_for_status(),
        }
        for kind, call in calls.items():
            samples = time_calls(call, repeats=reads, warmup=5)
            rows.append(CrowdRead(kind, reads, samples.median * 1000, samples.percentile(99) * 1000))
    app.state.app_state.engine.dispose()
    return rows


def measure_crowd(
    *, rounds: int = 1_000_000, images: int = 2_000, players: int = 20_000, reads: int = 300, seed: int = 7
) -> CrowdRun:
    """Seed `rounds` ranked rounds, fold them, time the reads; see the module docstring."""
    from sync_server import crowd_rebuild
    from sync_server.db import create_db_engine, migrate, session_factory

    rng = np.random.default_rng(seed)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory(prefix="eyevsai-crowd-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'server.sqlite3'}"
        engine = create_db_engine(url)
        migrate(engine)
        started = time.perf_counter()
        with session_factory(engine)() as session:
            _seed_catalog(session, images, players, now)
            _seed_rounds(session, rounds, images, players, rng, now)
            session.commit()
        seeded = time.perf_counter()
        with session_factory(engine)() as session:
            crowd_rebuild.rebuild(session=session, pack_id=PACK)
            session.commit()
        folded = time.perf_counter()
        engine.dispose()
        rows = _time_reads(url, Path(tmp), reads, images, rng)
    stored = rounds // ROUNDS_PER_SESSION * ROUNDS_PER_SESSION
    return CrowdRun(stored, images, players, seeded - started, folded - seeded, rows)


def crowd_table(run: CrowdRun) -> Table:
    table = Table(
        title=f"Crowd statistics with {run.rounds:,} stored ranked rounds ({run.images:,} images, {run.players:,} "
        f"players, SQLite): reads in ms",
        title_justify="left",
        caption=f"seeded with bulk inserts in {run.seed_s:.0f} s; folded by crowd_rebuild.rebuild in "
        f"{run.fold_s:.0f} s; target p99 < {TARGET_P99_MS:.0f} ms",
        caption_justify="left",
    )
    for column in ("read", "reads", "p50 ms", "p99 ms", f"p99 < {TARGET_P99_MS:.0f} ms"):
        table.add_column(column, justify="left" if column == "read" else "right")
    for r in run.reads:
        table.add_row(r.kind, str(r.reads), f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", "yes" if r.is_fast else "NO")
    return table
