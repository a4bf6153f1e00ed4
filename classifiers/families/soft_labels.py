"""Human soft labels for training: the answer distributions of a human-label export (`eyevsai-server
export-human-labels`, one JSON object per image) as per-image target distributions over a pack's classes.

Torch-free: the trainer checks the file before any framework loads. The distribution of an image is its answer
counts normalised (time-outs are not answers); an image in the export none of whose answers is a pack class is
skipped. The deep families mix it with the hard label (see deep_torch_loop.Trainer.train_epoch), as CIFAR-10H did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifiers.errors import ConfigError

DATA_FILE = "human_labels.jsonl"


def read_soft_labels(path: str | Path, classes: Sequence[str]) -> dict[str, np.ndarray]:
    """image sha256 → float32 distribution over `classes` (sums to 1), from an export's JSONL (or its folder).

    Raises:
        ConfigError: the file is missing or not an export's JSON lines.
    """
    path = Path(path)
    if path.is_dir():
        path = path / DATA_FILE
    index = {label: i for i, label in enumerate(classes)}
    out: dict[str, np.ndarray] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read soft labels {path} ({exc}). Pass the {DATA_FILE} of an export.") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            sha, counts = str(record["image_sha256"]), dict(record["answer_counts"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"Soft labels {path}, line {number}: not a human-label record ({exc}). "
                "Use a file written by `eyevsai-server export-human-labels`."
            ) from None
        row = np.zeros(len(classes), dtype=np.float32)
        for label, n in counts.items():
            if label in index and isinstance(n, int) and n > 0:
                row[index[label]] += n
        if row.sum() > 0:
            out[sha] = row / row.sum()
    return out


def target_table(shas: Sequence[str], soft: dict[str, np.ndarray], n_classes: int) -> np.ndarray:
    """One row per image in `shas`: its human distribution, or zeros (meaning "use the hard label")."""
    table = np.zeros((len(shas), n_classes), dtype=np.float32)
    for i, sha in enumerate(shas):
        if sha in soft:
            table[i] = soft[sha]
    return table
