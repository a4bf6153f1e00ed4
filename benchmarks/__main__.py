"""`python -m benchmarks`: feature extraction, ONNX inference, heatmap latency, training, game responsiveness, the
contest (simulated players per difficulty), sync server load, crowd statistics with a million stored rounds.

Exit codes: 0 success; 1 an unexpected error (rerun with --traceback); 2 bad input (missing pack or model).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import nullcontext
from dataclasses import asdict
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from classifiers.errors import EyeVsAIError
from classifiers.locations import user_data_dir

from .contest import PLAYER_ACCURACIES, ContestRow, contest_table, history_accuracy, measure_contest
from .crowd import CrowdRun, crowd_table, measure_crowd
from .features import FeatureResult, measure_features
from .game import GameResult, game_table, measure_game
from .heatmap import HeatmapResult, heatmap_table, measure_heatmaps
from .inference import CALLS_PER_REPEAT, InferenceResult, measure_inference, measure_session_threads, threads_table
from .report import machine_info, render, to_json
from .server import ServerRun, measure_server, server_table
from .server_data import throwaway_postgres
from .timing import peak_rss_mib
from .training import (
    SmallDataResult,
    TrainingResult,
    measure_small_data,
    measure_training,
    small_data_table,
    training_table,
)
from .workload import DEFAULT_PACK, bundled_model_dirs, load_pack_images

EXIT_FAILED, EXIT_BAD_INPUT = 1, 2


class Section(StrEnum):
    """Which half of the benchmark to run."""

    features = "features"
    inference = "inference"
    threads = "threads"  # only with --only threads: it starts CPU-bound processes for its busy half
    heatmap = "heatmap"
    game = "game"
    contest = "contest"
    training = "training"
    server = "server"
    crowd = "crowd"


app = typer.Typer(
    name="benchmarks",
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _consoles(as_json: bool) -> tuple[Console, Console]:
    out, err = Console(highlight=False), Console(stderr=True, highlight=False, quiet=as_json)
    if not out.is_terminal:  # pipes and logs: no 80-column wrapping of tables
        out.width = 200
    return out, err


def _measure(
    only: Section | None, images_n: int, repeats: int, device: str | None, err: Console
) -> tuple[dict[str, object], list[FeatureResult], list[InferenceResult]]:
    with err.status(f"Loading {images_n} images of pack '{DEFAULT_PACK}'…"):
        images, distinct = load_pack_images(images_n)
    workload: dict[str, object] = {
        "pack": DEFAULT_PACK,
        "images": len(images),
        "distinct_images": min(distinct, len(images)),
        "pack_images": distinct,
        "image_shape": "×".join(str(d) for d in images[0].shape),
        "repeats": repeats,
        "batch1_calls": repeats * CALLS_PER_REPEAT,
    }
    features: list[FeatureResult] = []
    inference: list[InferenceResult] = []
    if only in (None, Section.features):
        with err.status("Timing feature extractors…"):
            features = measure_features(images, repeats=repeats)
    if only in (None, Section.inference):
        model_dirs = bundled_model_dirs()
        if not model_dirs:
            err.print("[yellow]warning:[/] no bundled models under assets/models; skipping inference.")
            return workload, features, inference
        with err.status(f"Timing {len(model_dirs)} ONNX models…"):
            inference = measure_inference(model_dirs, images, repeats=repeats, device=device)
    return workload, features, inference


def _measure_play(only: Section | None, sessions: int, err: Console) -> tuple[list[HeatmapResult], list[ContestRow]]:
    """The heatmap latency rows and the contest table (each only when its section is asked for)."""
    heatmaps: list[HeatmapResult] = []
    if only in (None, Section.heatmap):
        with err.status("Timing occlusion heatmaps…"):
            heatmaps = measure_heatmaps(bundled_model_dirs(), load_pack_images(20)[0])
    contest: list[ContestRow] = []
    if only in (None, Section.contest):
        with err.status(f"Simulating {sessions} sessions per player and opponent…"):
            own = history_accuracy(user_data_dir(None) / "eyevsai.db")  # the local player's, when there is one
            contest = measure_contest(sessions=sessions, accuracies=(*PLAYER_ACCURACIES, *([own] if own else [])))
    return heatmaps, contest


@app.command()
def bench(
    images: Annotated[int, typer.Option("--images", "-n", min=1, help="Pack images to run on.")] = 500,
    repeats: Annotated[
        int,
        typer.Option(
            "--repeats",
            "-r",
            min=1,
            help=f"Timed repeats per measurement; batch 1 makes repeats × {CALLS_PER_REPEAT} calls.",
        ),
    ] = 5,
    only: Annotated[Section | None, typer.Option(help="Run only this section.")] = None,
    device: Annotated[
        str | None, typer.Option(help="onnxruntime device: auto or cpu (default: $EYEVSAI_DEVICE or auto).")
    ] = None,
    server_workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Most uvicorn workers of the sync server load test (it runs 1 and this many, on loopback).",
        ),
    ] = 2,
    sessions: Annotated[
        int, typer.Option(min=1, help="Simulated classic sessions per player and opponent in the contest.")
    ] = 400,
    server_players: Annotated[
        int, typer.Option(min=100, help="Players seeded onto the benchmark's leaderboard.")
    ] = 100_000,
    crowd_rounds: Annotated[
        int, typer.Option(min=1000, help="Ranked rounds stored before timing the crowd statistics reads.")
    ] = 1_000_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")] = False,
    traceback: Annotated[bool, typer.Option("--traceback", "-v", help="Show the stack trace of errors.")] = False,
) -> None:
    """Measure feature extraction, ONNX inference and game responsiveness on the bundled pack and models.

    Example: python -m benchmarks --images 200 --repeats 3 --only inference --json
    """
    out, err = _consoles(as_json)
    if only is Section.server:
        _bench_server(out, err, server_workers, server_players, as_json)
        return
    try:
        workload, features, inference = _measure(only, images, repeats, device, err)
    except Exception as exc:
        if traceback:
            raise
        known = isinstance(exc, EyeVsAIError)
        message = str(exc) if known else f"unexpected {type(exc).__name__}: {exc}. Rerun with --traceback."
        Console(stderr=True).print(f"[bold red]error:[/] {message}", soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT if known else EXIT_FAILED) from None
    heatmaps, contest = _measure_play(only, sessions, err)
    threads = []
    if only is Section.threads:
        with err.status("Timing batch 1 under each onnxruntime thread setting, idle and busy…"):
            threads = measure_session_threads(bundled_model_dirs(), load_pack_images(images)[0], device=device or "cpu")
    training: list[TrainingResult] = []
    small: SmallDataResult | None = None
    if only in (None, Section.training):
        try:
            with err.status("Training each deep family for one epoch…"):
                training = measure_training(device="auto" if device in (None, "auto") else device)
        except EyeVsAIError as exc:  # e.g. torch not installed: the other sections still stand
            err.print(f"[yellow]warning:[/] training section skipped: {exc}")
        try:
            with err.status("Training the small-data path on the shapes pack…"):
                small = measure_small_data()
        except EyeVsAIError as exc:  # e.g. the backbone cannot be converted here
            err.print(f"[yellow]warning:[/] small-data row skipped: {exc}")
    game: list[GameResult] = []
    if only in (None, Section.game):
        with err.status("Playing classic sessions in an offscreen window…"):
            game = measure_game(sessions=max(1, repeats // 2), device=device)
    server = _run_server(err, server_workers, server_players) if only is None else None
    server: ServerRun | None = None
    if only in (None, Section.server):
        try:
            with err.status(f"Load-testing the sync server with {server_workers} worker(s) on loopback…"):
                server = measure_server(workers=server_workers, database_url=os.environ.get("DATABASE_URL") or None)
        except EyeVsAIError as exc:  # the server did not start, or it lost or duplicated requests
            Console(stderr=True).print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            raise typer.Exit(EXIT_FAILED) from None
    crowd: CrowdRun | None = None
    if only in (None, Section.crowd):
        with err.status(f"Seeding {crowd_rounds:,} ranked rounds and timing the crowd statistics…"):
            crowd = measure_crowd(rounds=crowd_rounds)
    machine = machine_info(sorted({row.provider for row in inference}))
    rss = peak_rss_mib()
    if as_json:
        document = json.loads(to_json(machine, workload, features, inference, rss))
        document["training"] = [asdict(row) for row in training]
        document["threads"] = [asdict(row) for row in threads]
        document["small_data"] = asdict(small) if small else None
        document["game"] = [asdict(row) for row in game]
        document["heatmap"] = [asdict(row) for row in heatmaps]
        document["contest"] = [asdict(row) for row in contest]
        document["server"] = asdict(server) if server else None
        document["crowd"] = asdict(crowd) if crowd else None
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        render(out, machine, workload, features, inference, rss)
        if threads:
            out.print(threads_table(threads))
        if training:
            out.print(training_table(training))
        if small:
            out.print(small_data_table(small))
        if heatmaps:
            out.print(heatmap_table(heatmaps))
        if game:
            out.print(game_table(game))
        if contest:
            out.print(contest_table(contest))
        if server:
            out.print(server_table(server))
        if crowd:
            out.print(crowd_table(crowd))


def _run_server(err: Console, workers: int, players: int) -> ServerRun:
    """SQLite, and PostgreSQL from $DATABASE_URL or $EYEVSAI_TEST_POSTGRES_URL or a throwaway local server."""
    given = os.environ.get("DATABASE_URL") or os.environ.get("EYEVSAI_TEST_POSTGRES_URL") or None
    try:
        with throwaway_postgres() if given is None else nullcontext(given) as postgres_url:
            if postgres_url is None:
                err.print("[yellow]warning:[/] no PostgreSQL server (none given, initdb not found): SQLite only.")
            with err.status(f"Load-testing the sync server ({players:,} players, 1 and {workers} workers)…"):
                return measure_server(workers=sorted({1, workers}), players=players, postgres_url=postgres_url)
    except EyeVsAIError as exc:  # the server did not start, or it lost or duplicated requests
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from None


def _bench_server(out: Console, err: Console, workers: int, players: int, as_json: bool) -> None:
    server = _run_server(err, workers, players)
    if as_json:
        document = {"machine": machine_info([]), "server": asdict(server)}
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        out.print(server_table(server))


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    try:
        app(args=argv, prog_name="python -m benchmarks", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_FAILED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
