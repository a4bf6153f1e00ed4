"""Does training on human answer distributions change accuracy and calibration? A small CPU experiment on a
SIMULATED human-label export (`python -m benchmarks.soft_labels`).

1. A pack is built from the bundled Fashion-MNIST images (its labelled `test` split: 1,500 images) re-split into
   train / val / test.
2. A human-label export is simulated for the training images from a confusion model: per-class accuracies whose
   mean is the published human accuracy on Fashion-MNIST (~83.5 %), errors spread over the visually similar
   classes (tops; shoes), each image's own answer distribution drawn around its class's row (Dirichlet), and
   5-40 simulated players per image. The file has the export's format (sync_server/crowd_export.py).
3. The deep families are trained on the same data and seeds with and without `soft_labels` (weight 0.5), and the
   test accuracy and the expected calibration error (15 equal-width confidence bins) are compared.

The simulated answers know nothing about the pixels (an image's difficulty is drawn at random, not seen), so this
measures what class-level human confusion does as a training target; real crowd answers also carry each image's
own ambiguity, which is what CIFAR-10H found useful.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

GROUPS = (("t-shirt", "pullover", "coat", "shirt", "dress"), ("sandal", "sneaker", "ankle boot"))
HUMAN_ACCURACY = {  # per class; the mean is 0.835
    "shirt": 0.58,
    "pullover": 0.78,
    "coat": 0.78,
    "t-shirt": 0.82,
    "dress": 0.85,
    "sandal": 0.88,
    "sneaker": 0.88,
    "ankle boot": 0.90,
    "bag": 0.92,
    "trouser": 0.96,
}
ECE_BINS = 15


def expected_calibration_error(truth: np.ndarray, probabilities: np.ndarray, bins: int = ECE_BINS) -> float:
    """Sum over equal-width confidence bins of |accuracy - mean confidence| weighted by the bin's share."""
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == truth
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def confusion_model(classes: list[str]) -> np.ndarray:
    """Rows: true class; columns: the answer's probability. Errors go to the class's group (or anywhere)."""
    matrix = np.zeros((len(classes), len(classes)))
    for i, label in enumerate(classes):
        group = next((g for g in GROUPS if label in g), tuple(classes))
        others = [classes.index(c) for c in group if c != label and c in classes]
        matrix[i, i] = HUMAN_ACCURACY.get(label, 0.835)
        matrix[i, others] = (1 - matrix[i, i]) / len(others)
    return matrix


def simulate_export(shas: list[str], labels: np.ndarray, classes: list[str], path: Path, seed: int = 0) -> float:
    """Write a human_labels.jsonl for these images; returns the simulated crowd's accuracy."""
    rng = np.random.default_rng(seed)
    matrix, right, total = confusion_model(classes), 0, 0
    with path.open("w", encoding="utf-8") as out:
        for sha, y in zip(shas, labels, strict=True):
            image_row = rng.dirichlet(matrix[y] * 20 + 1e-3)  # this image's own difficulty, around its class's
            players = int(rng.integers(5, 41))
            counts = rng.multinomial(players, image_row)
            right, total = right + int(counts[y]), total + players
            answers = {classes[k]: int(n) for k, n in enumerate(counts) if n}
            record = {"image_sha256": sha, "label": classes[y], "players": players, "timeouts": 0}
            record |= {"correct": int(counts[y]), "answer_counts": answers, "shown_counts": {}, "time_ms": None}
            out.write(json.dumps(record) + "\n")
    return right / total


def build_subset_pack(out_dir: Path):  # noqa: ANN201 - classifiers.pack.Pack
    """The bundled pack's labelled images as a pack with train / val / test splits."""
    from classifiers.locations import bundled_assets_dir
    from classifiers.pack import open_pack
    from classifiers.progress import run_to_end
    from trainer.packs import SourceImage, SplitFractions, build_pack

    bundled = open_pack(bundled_assets_dir() / "packs" / "fashion-mnist")
    images = [SourceImage(bundled.read_bytes(e.sha256), e.label, e.sha256) for e in bundled.available("test")]
    fractions = SplitFractions(val=0.15, test=0.3, ranked=0.0)
    run_to_end(build_pack(images, out_dir, pack_id="fm-soft", fractions=fractions, seed=0, min_per_class=5))
    return open_pack(out_dir / "fm-soft")


@dataclass(frozen=True)
class SoftRow:
    family: str
    seed: int
    soft: bool
    accuracy: float
    ece: float


FAMILIES = {
    "deep_v1": {"epochs": 30, "min_steps": 0, "lr": 5e-3, "width": 16, "blocks": 2},
    "deep_v2": {"epochs": 20, "min_steps": 0, "lr": 5e-3, "width": 16, "stages": 2, "depth": 1},
}


def run(seeds: tuple[int, ...] = (0, 1, 2), weight: float = 0.5) -> tuple[list[SoftRow], float]:
    from classifiers.families.base import load_split_images
    from classifiers.registry import get_family

    rows = []
    with tempfile.TemporaryDirectory(prefix="eyevsai-soft-") as tmp:
        pack = build_subset_pack(Path(tmp))
        shas, labels = pack.labelled("train")
        export = Path(tmp) / "human_labels.jsonl"
        crowd_accuracy = simulate_export(list(shas), np.asarray(labels), list(pack.classes), export)
        test_images, test_labels = load_split_images(pack, "test")
        for family, params in FAMILIES.items():
            for seed in seeds:
                for soft in (False, True):
                    extra = {"soft_labels": str(export), "soft_label_weight": weight} if soft else {}
                    common = {"image_size": 28, "workers": 0, "device": "cpu", "patience": 0, "seed": seed}
                    estimator = get_family(family).create(**params, **common, **extra)
                    for _event in estimator.fit(pack):
                        pass
                    probabilities = estimator.predict_proba(test_images)
                    truth = np.asarray(test_labels)
                    accuracy = float((probabilities.argmax(1) == truth).mean())
                    ece = expected_calibration_error(truth, probabilities)
                    rows.append(SoftRow(family, seed, soft, accuracy, ece))
    return rows, crowd_accuracy


def table(rows: list[SoftRow], crowd_accuracy: float) -> Table:
    out = Table(
        title=f"Hard labels vs human soft labels (simulated crowd, {crowd_accuracy:.1%} right; weight 0.5): "
        f"test accuracy and ECE ({ECE_BINS} bins), mean over seeds",
        title_justify="left",
    )
    for column in ("family", "targets", "seeds", "test accuracy", "ECE", "accuracy per seed", "ECE per seed"):
        out.add_column(column, justify="left" if column in ("family", "targets") else "right")
    for family in dict.fromkeys(r.family for r in rows):
        for soft in (False, True):
            mine = [r for r in rows if r.family == family and r.soft == soft]
            out.add_row(
                family,
                "hard + human (0.5)" if soft else "hard",
                str(len(mine)),
                f"{np.mean([r.accuracy for r in mine]):.1%}",
                f"{np.mean([r.ece for r in mine]):.3f}",
                " ".join(f"{r.accuracy:.1%}" for r in mine),
                " ".join(f"{r.ece:.3f}" for r in mine),
            )
    return out


def main() -> int:
    seeds = tuple(int(s) for s in sys.argv[1:]) or (0, 1, 2)
    rows, crowd_accuracy = run(seeds)
    Console(width=200).print(table(rows, crowd_accuracy))
    return 0


if __name__ == "__main__":
    sys.exit(main())
