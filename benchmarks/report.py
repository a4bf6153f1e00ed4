"""Benchmark output: the machine description, rich tables for people and one JSON document for scripts."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .features import FeatureResult
from .inference import BATCH, InferenceResult


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _onnxruntime() -> tuple[str, list[str]]:
    try:
        import onnxruntime
    except ImportError:
        return "not installed", []
    return onnxruntime.__version__, list(onnxruntime.get_available_providers())


def machine_info(providers_used: list[str]) -> dict[str, Any]:
    """What the numbers depend on: CPU, library versions, and the execution provider(s) that ran."""
    ort_version, available = _onnxruntime()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": _package_version("numpy"),
        "opencv": _package_version("opencv-python-headless"),
        "scikit_image": _package_version("scikit-image"),
        "onnxruntime": ort_version,
        "providers_available": available,
        "providers_used": providers_used,
    }


def to_json(
    machine: dict[str, Any],
    workload: dict[str, Any],
    features: list[FeatureResult],
    inference: list[InferenceResult],
    peak_rss_mib: float | None,
) -> str:
    """The whole run as one JSON document."""
    return json.dumps(
        {
            "machine": machine,
            "workload": workload,
            "features": [asdict(row) for row in features],
            "inference": [asdict(row) for row in inference],
            "peak_rss_mib": peak_rss_mib,
        },
        indent=2,
        ensure_ascii=False,
    )


def _num(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value >= 1000 else f"{value:.{digits}g}"


def _feature_table(rows: list[FeatureResult], workload: dict[str, Any]) -> Table:
    table = Table(
        title=f"Feature extraction: {workload['images']} images, median of {workload['repeats']} passes",
        title_justify="left",
    )
    width = 7 if any(row.note for row in rows) else 6  # the note column only when some row has one
    for column in ("extractor", "images/s", "ms/image", "dim", "share of ours", "vs ours", "note")[:width]:
        table.add_column(column, justify="left" if column in ("extractor", "note") else "right")
    for row in rows:
        share = "" if row.share is None else f"{100 * row.share:.0f}%"
        versus = "" if row.slower_than_ours is None else f"{row.slower_than_ours:.2f}× slower"
        dim = "" if row.dim is None else str(row.dim)
        cells = [row.name, _num(row.images_per_s), _num(row.ms_per_image), dim, share, versus, row.note]
        table.add_row(*cells[:width])
    return table


def _inference_table(rows: list[InferenceResult], workload: dict[str, Any]) -> Table:
    calls = workload["batch1_calls"]
    table = Table(
        title=f"ONNX inference via OnnxClassifier: batch 1 over {calls} calls, batch {BATCH} median of "
        f"{workload['repeats']}; 'run only' excludes feature extraction",
        title_justify="left",
    )
    columns = (
        "model",
        "provider",
        "onnx MiB",
        "load ms",
        "b1 median ms",
        "b1 p95 ms",
        "b1 run only ms",
        f"b{BATCH} ms",
        f"b{BATCH} images/s",
        f"b{BATCH} run only ms",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("model", "provider") else "right")
    for row in rows:
        provider = row.provider.removesuffix("ExecutionProvider")
        table.add_row(
            row.model,
            provider,
            f"{row.onnx_mib:.2f}",
            _num(row.load_ms),
            _num(row.b1_median_ms),
            _num(row.b1_p95_ms),
            _num(row.b1_run_only_ms),
            _num(row.b64_ms),
            _num(row.b64_images_per_s),
            _num(row.b64_run_only_ms),
        )
    return table


def render(
    console: Console,
    machine: dict[str, Any],
    workload: dict[str, Any],
    features: list[FeatureResult],
    inference: list[InferenceResult],
    peak_rss_mib: float | None,
) -> None:
    """Print the machine, then one table per measured section, then the peak RSS."""
    console.print(
        f"[bold]Machine:[/] {machine['cpu']} — {machine['cpu_count']} CPUs "
        f"({machine['cpus_usable']} usable), {machine['platform']}, Python {machine['python']}"
    )
    console.print(
        f"[bold]Libraries:[/] numpy {machine['numpy']}, opencv {machine['opencv']}, "
        f"scikit-image {machine['scikit_image']}, onnxruntime {machine['onnxruntime']} "
        f"(available: {', '.join(machine['providers_available']) or 'none'})"
    )
    console.print(f"[bold]Provider used:[/] {', '.join(machine['providers_used']) or 'n/a'}")
    console.print(
        f"[bold]Workload:[/] {workload['images']} images from pack '{workload['pack']}' "
        f"({workload['distinct_images']} distinct of {workload['pack_images']}, "
        f"{workload['image_shape']} RGB), "
        f"{workload['repeats']} repeats, single process\n"
    )
    if features:
        console.print(_feature_table(features, workload))
    if inference:
        console.print(_inference_table(inference, workload))
    rss = "n/a" if peak_rss_mib is None else f"{peak_rss_mib:.0f} MiB"
    console.print(f"[bold]Peak RSS[/] of the whole benchmark process (getrusage): {rss}")
