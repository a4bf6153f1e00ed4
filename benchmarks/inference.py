"""ONNX inference latency through the game's runtime (`classifiers.runtime.OnnxClassifier`).

Batch 1 is what a round costs the game: feature extraction (or resizing) plus one `session.run`, timed per
call over distinct images; the median and 95th percentile are reported. Batch 64 is a throughput view. Both
are also timed for `session.run` alone on an already-prepared input, to show where the time goes.

`measure_session_threads` times batch 1 under onnxruntime's thread settings (intra-op threads × spinning), on the
machine as it is and with CPU-bound processes on its cores: the evidence for the game's `GAME_THREADS`.
"""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

from classifiers.card import ONNX_FILE
from classifiers.runtime import GAME_THREADS, OnnxClassifier, SessionThreads

from .timing import time_calls

BATCH = 64
CALLS_PER_REPEAT = 50  # batch-1 calls per repeat: enough samples for a stable 95th percentile
WARMUP_CALLS = 10


@dataclass(frozen=True)
class InferenceResult:
    """One row of the inference table: one model on this machine's execution provider."""

    model: str
    input_kind: str  # "features" (shallow family) or "image"
    provider: str
    onnx_mib: float
    load_ms: float
    b1_median_ms: float
    b1_p95_ms: float
    b1_run_only_ms: float  # median session.run on a prepared single input
    b64_ms: float
    b64_images_per_s: float
    b64_run_only_ms: float


def _batch1(model: OnnxClassifier, images: Sequence[np.ndarray], repeats: int) -> tuple[float, float, float]:
    """(median ms, p95 ms, median run-only ms) per single-image call."""
    stream = itertools.cycle(images)
    calls = repeats * CALLS_PER_REPEAT
    full = time_calls(lambda: model.predict_batch([next(stream)]), repeats=calls, warmup=WARMUP_CALLS)
    prepared = model.prepare([images[0]])
    run_only = time_calls(lambda: model.run(prepared), repeats=calls, warmup=WARMUP_CALLS)
    return 1000 * full.median, 1000 * full.percentile(95), 1000 * run_only.median


def _batch64(model: OnnxClassifier, images: Sequence[np.ndarray], repeats: int) -> tuple[float, float]:
    """(median ms per batch, median run-only ms per batch) for BATCH images."""
    batch = list(itertools.islice(itertools.cycle(images), BATCH))
    full = time_calls(lambda: model.predict_batch(batch), repeats=repeats, warmup=1)
    prepared = model.prepare(batch)
    run_only = time_calls(lambda: model.run(prepared), repeats=repeats, warmup=1)
    return 1000 * full.median, 1000 * run_only.median


def measure_model(
    model_dir: Path, images: Sequence[np.ndarray], *, repeats: int, device: str | None = None
) -> InferenceResult:
    """Load one bundled model and time it at batch 1 and batch 64.

    Args:
        model_dir: folder with model.json and model.onnx.
        images: RGB uint8 images, cycled through.
        repeats: batch-64 timed calls; batch 1 makes `repeats × CALLS_PER_REPEAT` timed calls.
        device: "auto" or "cpu", as for `OnnxClassifier`.

    Raises:
        ModelCardError: the card or ONNX file is missing or broken.
    """
    start = time.perf_counter()
    model = OnnxClassifier(model_dir, device=device)
    load_ms = 1000 * (time.perf_counter() - start)
    b1_median, b1_p95, b1_run = _batch1(model, images, repeats)
    b64_ms, b64_run = _batch64(model, images, repeats)
    return InferenceResult(
        model=model.card.id,
        input_kind=model.card.input.kind,
        provider=model.provider,
        onnx_mib=(model_dir / ONNX_FILE).stat().st_size / (1024 * 1024),
        load_ms=load_ms,
        b1_median_ms=b1_median,
        b1_p95_ms=b1_p95,
        b1_run_only_ms=b1_run,
        b64_ms=b64_ms,
        b64_images_per_s=BATCH / (b64_ms / 1000),
        b64_run_only_ms=b64_run,
    )


def measure_inference(
    model_dirs: Sequence[Path], images: Sequence[np.ndarray], *, repeats: int, device: str | None = None
) -> list[InferenceResult]:
    """`measure_model` for each model folder, in order."""
    return [measure_model(path, images, repeats=repeats, device=device) for path in model_dirs]


# -- the session's thread pool: threads × spinning, on this machine idle and with other processes on every core ------
THREAD_SETTINGS = (
    SessionThreads(1, False),
    SessionThreads(1, True),
    SessionThreads(2, False),
    SessionThreads(2, True),
    SessionThreads(),  # onnxruntime's defaults: a thread per physical core, spinning
)
THREADS_CALLS = 200  # batch-1 calls per setting: enough for a 99th percentile


@dataclass(frozen=True)
class ThreadsResult:
    """Batch-1 latency of one model under one thread setting and one machine load."""

    model: str
    load: str  # "idle" or "busy (N burners)"
    intra_op: str
    spinning: str
    p50_ms: float
    p99_ms: float


@contextlib.contextmanager
def cpu_burners(count: int) -> Iterator[list[subprocess.Popen]]:
    """`count` processes spinning on a core each for the block (the busy machine a game shares), then stopped."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.5)  # let the scheduler see them before timing starts
        yield burners
    finally:
        for process in burners:
            process.kill()
            process.wait()


def _setting_rows(
    model_dir: Path, images: Sequence[np.ndarray], load: str, calls: int, device: str | None
) -> list[ThreadsResult]:
    rows = []
    for setting in THREAD_SETTINGS:
        model = OnnxClassifier(model_dir, device=device, threads=setting)
        stream = itertools.cycle(images)
        samples = time_calls(lambda m=model, s=stream: m.predict_batch([next(s)]), repeats=calls, warmup=WARMUP_CALLS)
        rows.append(
            ThreadsResult(
                model=model.card.id,
                load=load,
                intra_op="default" if setting.intra_op is None else str(setting.intra_op),
                spinning="default (on)" if setting.spinning is None else ("on" if setting.spinning else "off"),
                p50_ms=1000 * samples.median,
                p99_ms=1000 * samples.percentile(99),
            )
        )
    return rows


def measure_session_threads(
    model_dirs: Sequence[Path],
    images: Sequence[np.ndarray],
    *,
    calls: int = THREADS_CALLS,
    burners: int = 2,
    device: str | None = "cpu",
) -> list[ThreadsResult]:
    """Batch-1 latency (p50, p99 over `calls` predict calls) of every model under each of THREAD_SETTINGS, first
    on the machine as it is, then with `burners` CPU-bound processes running (0: idle only)."""
    rows = [row for path in model_dirs for row in _setting_rows(path, images, "idle", calls, device)]
    if burners:
        with cpu_burners(burners):
            load = f"busy ({burners} burners)"
            rows += [row for path in model_dirs for row in _setting_rows(path, images, load, calls, device)]
    return rows


def threads_table(rows: Sequence[ThreadsResult]) -> Table:
    game = f"intra-op {GAME_THREADS.intra_op}, spinning {'on' if GAME_THREADS.spinning else 'off'}"
    table = Table(title=f"Batch-1 latency by onnxruntime thread setting (the game plays with {game})")
    for column in ("model", "load", "intra-op threads", "spinning", "p50 ms", "p99 ms"):
        table.add_column(column, justify="right" if column.endswith("ms") else "left")
    for row in rows:
        table.add_row(row.model, row.load, row.intra_op, row.spinning, f"{row.p50_ms:.2f}", f"{row.p99_ms:.2f}")
    return table
