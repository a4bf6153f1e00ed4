"""Training throughput of every family (shallow, the PyTorch families, transfer in Keras) on real pack images,
and the small-data path's time to train.

The bundled game pack ships no train split, so its labelled test images are rebuilt into a temporary pack
(80 % train, 10 % val, 10 % test) and each family trains one epoch on it through the trainer's own code path
(`fit`: lazy decoding in DataLoader workers, augmentation, mixup, optimizer steps, validation). The figure is
the median training images/s the fit reports; validation is not counted. On a GPU deep_v2 also runs with bf16
and fp16 autocast. The shallow family's figure is the whole fit (feature extraction and the classifier) per
training image. Every family trains with its default `threads` (docs/architecture.md, "Math threads").

The small-data path (the embedding family) trains on the generated shapes pack (3 classes × 60 images,
`benchmarks.shapes`) through `train_model`: fit, export, parity check and test evaluation, from a cache holding
the converted backbone but no image embeddings; converting the backbone once (the first run on a machine) is
timed apart.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from classifiers.locations import bundled_assets_dir
from classifiers.pack import Pack, open_pack
from classifiers.progress import run_to_end
from classifiers.registry import get_family
from trainer.packs import SourceImage, SplitFractions, build_pack
from trainer.training import train_model

from .shapes import SHAPES, build_shapes_pack
from .workload import DEFAULT_PACK

IMAGE_SIZE = 28  # the bundled pack's native size


@dataclass(frozen=True)
class TrainingResult:
    """One family's training epoch on this machine."""

    family: str
    variant: str
    device: str
    amp: str
    batch_size: int | None  # None: the shallow family fits on all images at once
    image_size: int
    parameters: int | None  # None: not a network
    train_images: int
    images_per_s: float
    peak_rss_mib: float | None
    gpu_peak_mib: float | None
    threads: int | None = None


def _training_pack(out_dir: Path, pack_id: str = DEFAULT_PACK) -> Pack:
    """A pack with train/val/test splits built from the bundled game pack's labelled test images."""
    source = open_pack(bundled_assets_dir() / "packs" / pack_id)
    shas, labels = source.labelled("test")
    images = [
        SourceImage(source.image_path(sha).read_bytes(), source.classes[label], sha)
        for sha, label in zip(shas, labels, strict=True)
    ]
    fractions = SplitFractions(val=0.1, test=0.1, ranked=0.0)
    licence = str(source.meta.get("licence", "unknown"))
    for _ in build_pack(
        images, out_dir, pack_id="bench", title="benchmark", licence=licence, fractions=fractions, min_per_class=1
    ):
        pass
    return open_pack(out_dir / "bench")


def _configs(device: str) -> list[tuple[str, str, dict[str, Any]]]:
    configs: list[tuple[str, str, dict[str, Any]]] = [("deep_v1", "cnn", {}), ("deep_v2", "cbam", {})]
    if device == "cuda":
        configs += [("deep_v2", "cbam", {"amp": "bf16"}), ("deep_v2", "cbam", {"amp": "fp16"})]
    return configs


def measure_training(*, batch_size: int = 64, workers: int = 2, device: str = "auto") -> list[TrainingResult]:
    """Train each deep family one epoch and report its throughput.

    Raises:
        MissingExtraError: torch is not installed (pip extra 'torch').
        PackError: the bundled pack is missing.
    """
    get_family("deep_v1").create()  # raises MissingExtraError, naming the pip extra, when torch is missing
    import torch

    resolved = "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
    results = []
    with tempfile.TemporaryDirectory(prefix="eyevsai-bench-") as tmp:
        pack = _training_pack(Path(tmp))
        n_train = len(pack.splits["train"])
        results += _shallow_rows(pack)
        for family, variant, extra in _configs(resolved):
            estimator = get_family(family).create(
                variant,
                epochs=1,
                min_steps=0,  # one epoch: images/s, not a model
                batch_size=batch_size,
                image_size=IMAGE_SIZE,
                patience=0,
                workers=workers,
                device=resolved,
                **extra,
            )
            for _ in estimator.fit(pack):
                pass
            run = estimator.training_info_
            results.append(
                TrainingResult(
                    family=family,
                    variant=variant,
                    device=run["device"],
                    amp=run["amp"],
                    batch_size=batch_size,
                    image_size=IMAGE_SIZE,
                    parameters=run["parameters"],
                    train_images=n_train,
                    images_per_s=run["images_per_s"],
                    peak_rss_mib=run.get("peak_rss_mb"),
                    gpu_peak_mib=run.get("gpu_peak_mb"),
                    threads=run.get("threads"),
                )
            )
        results += _transfer_rows(pack, batch_size)
    return results


def _shallow_rows(pack: Pack) -> list[TrainingResult]:
    """Each shallow variant's whole fit (features at the default 64 px, then the classifier) per training image.
    No rows when scikit-learn is not installed."""
    info = get_family("shallow")
    if not info.is_available:
        return []
    rows = []
    n_train = len(pack.splits["train"])
    for variant in info.variants:
        estimator = info.create(variant)
        started = time.perf_counter()
        for _ in estimator.fit(pack):
            pass
        seconds = time.perf_counter() - started
        rows.append(
            TrainingResult(
                family="shallow",
                variant=variant,
                device="cpu",
                amp="none",
                batch_size=None,
                image_size=estimator.feature_size,
                parameters=None,
                train_images=n_train,
                images_per_s=n_train / seconds,
                peak_rss_mib=None,
                gpu_peak_mib=None,
                threads=estimator.training_info_["threads"],
            )
        )
    return rows


def _transfer_rows(pack: Pack, batch_size: int, image_size: int = 96) -> list[TrainingResult]:
    """The transfer family (ImageNet EfficientNet-Lite0 at its default 96 px), one epoch of each phase: the
    frozen backbone and fine-tuning its top 20 layers. No rows when TensorFlow is not installed."""
    info = get_family("transfer")
    if not info.is_available:
        return []
    estimator = info.create(
        "efficientnet_lite0",
        image_size=image_size,
        freeze_epochs=1,
        fine_tune_epochs=1,
        patience=0,
        batch_size=batch_size,
    )
    for _ in estimator.fit(pack):
        pass
    run = estimator.training_info_
    return [
        TrainingResult(
            family="transfer",
            variant=f"efficientnet_lite0 {phase}",
            device=run["device"],
            amp="mixed" if run["mixed_precision"] else "none",
            batch_size=batch_size,
            image_size=image_size,
            parameters=run["parameters"],
            train_images=len(pack.splits["train"]),
            images_per_s=record["images_per_s"],
            peak_rss_mib=run["peak_rss_mb"],
            gpu_peak_mib=None,
            threads=run.get("threads"),
        )
        for phase, record in run["phases"].items()
    ]


def training_table(rows: list[TrainingResult]) -> Table:
    table = Table(
        title="Training throughput (networks: one epoch, augmentation on, no validation; shallow: the whole fit)"
    )
    for column in (
        "family",
        "variant",
        "device",
        "amp",
        "threads",
        "batch",
        "size",
        "parameters",
        "train images",
        "images/s",
        "peak RSS MiB",
        "GPU peak MiB",
    ):
        table.add_column(column, justify="left" if column in ("family", "variant", "device", "amp") else "right")
    for row in rows:
        table.add_row(
            row.family,
            row.variant,
            row.device,
            row.amp,
            str(row.threads or "-"),
            str(row.batch_size or "-"),
            str(row.image_size),
            f"{row.parameters:,}" if row.parameters else "-",
            str(row.train_images),
            f"{row.images_per_s:,.0f}",
            f"{row.peak_rss_mib:,.0f}" if row.peak_rss_mib else "-",
            f"{row.gpu_peak_mib:,.0f}" if row.gpu_peak_mib else "-",
        )
    return table


@dataclass(frozen=True)
class SmallDataResult:
    """The small-data path on the shapes pack: wall seconds to train (fit, export, parity, test) and accuracy."""

    name: str
    image_size: int
    train_images: int
    seconds: float
    cpu_seconds: float
    test_accuracy: float
    n_test: int
    convert_seconds: float  # converting the backbone to ONNX, once per machine (0: it was cached)


def measure_small_data(per_class: int = 60) -> SmallDataResult | None:
    """Train the embedding family on the shapes pack; None when its frameworks are not installed."""
    info = get_family("embedding")
    if not info.is_available:
        return None
    from classifiers.families.embedding import DEFAULT_IMAGE_SIZE
    from classifiers.families.embedding_graph import ensure_feature_graph

    started = time.perf_counter()
    graph = run_to_end(ensure_feature_graph(None, DEFAULT_IMAGE_SIZE))  # the user cache, as the GUI uses
    convert = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="eyevsai-bench-") as tmp:
        pack = build_shapes_pack(Path(tmp), per_class=per_class)
        cache = Path(tmp) / "cache"  # the converted backbone, but no embedding of these images yet
        cache.mkdir()
        shutil.copy(graph, cache / graph.name)
        started, cpu = time.perf_counter(), time.process_time()
        result = run_to_end(train_model("embedding", pack, Path(tmp) / "models", params={"cache_dir": str(cache)}))
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return SmallDataResult(
        name=f"embedding (shapes {len(SHAPES)}×{per_class})",
        image_size=DEFAULT_IMAGE_SIZE,
        train_images=len(pack.splits["train"]),
        seconds=round(seconds, 1),
        cpu_seconds=round(cpu_seconds, 1),
        test_accuracy=result.card.test_accuracy,
        n_test=int(result.card.metrics["n_test"]),
        convert_seconds=round(convert, 1) if convert > 1 else 0.0,
    )


def small_data_table(row: SmallDataResult) -> Table:
    table = Table(title="Small-data path: time to train (fit, ONNX export, parity check, test evaluation)")
    for column in ("path", "size", "train images", "seconds", "CPU seconds", "test accuracy", "first-run convert s"):
        table.add_column(column, justify="left" if column == "path" else "right")
    table.add_row(
        row.name,
        str(row.image_size),
        str(row.train_images),
        f"{row.seconds:.1f}",
        f"{row.cpu_seconds:.1f}",
        f"{row.test_accuracy:.1%} of {row.n_test}",
        f"{row.convert_seconds:.1f}" if row.convert_seconds else "cached",
    )
    return table
