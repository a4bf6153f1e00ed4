"""How the deep families train (`TrainConfig`) and what each epoch records about memory (`memory_metrics`).

The leaf of the deep-torch modules: `deep_torch_common` (data, checkpoints, export, `fit_network`) and
`deep_torch_loop` (the `Trainer`) both import it, and it imports neither. Imports torch at module level, like
them: the deep families import it inside their methods only.
"""

from __future__ import annotations

import math
import os
import resource
import sys
from dataclasses import dataclass, field
from typing import Any

import torch

from classifiers.families.deep_torch_augment import AugmentConfig


@dataclass
class TrainConfig:
    """How to train, independent of the network. Every field's "off" value disables that feature.

    Attributes:
        epochs: the most epochs to run (early stopping may end sooner), raised on a small pack by `min_steps`.
        min_steps: the fewest optimizer steps a full run takes: when `epochs` epochs hold fewer, every epoch is
            stretched into `stretch` passes over the data (epochs, patience and warm-up all multiplied), so a pack
            of 60 images per class (3 steps an epoch) still gets enough updates (0: `epochs` alone).
        batch_size: images per forward pass; one optimizer step takes `accumulate` of them.
        lr, weight_decay: AdamW's peak learning rate and decoupled weight decay.
        patience: stop after this many epochs without a lower validation loss (0: never stop early).
        schedule: "cosine" (linear warm-up, cosine decay to 0) or "onecycle" (warm-up from lr/25, cosine decay
            to lr/250000, 30 % warm-up when `warmup` is 0).
        warmup: warm-up length in epochs.
        accumulate: gradient accumulation (forward passes per optimizer step).
        clip: gradient-norm clipping threshold (0: no clipping).
        label_smoothing, mixup_alpha, mixup_prob: target smoothing and mixup (alpha 0 or prob 0: no mixup).
        augment: batch augmentation of training images.
        amp: "none", "bf16" or "fp16" autocast; used only on a GPU.
        compile: torch.compile the network; used only on a GPU.
        seed: seeds weights, shuffling, augmentation, mixup and dropout (per epoch, so a resumed run matches).
        workers: DataLoader worker processes decoding images (0: decode in this process).
        device: "auto" (CUDA when available), "cpu" or "cuda".
        checkpoint: write a checkpoint here after every epoch (None: no checkpoint).
        resume: continue from this checkpoint.
        soft_labels: a human-label export whose answer distributions are soft targets (None: hard labels only).
        soft_label_weight: the human distribution's share of such a target (the hard label has the rest).
    """

    epochs: int
    batch_size: int
    lr: float
    min_steps: int = 0
    weight_decay: float = 0.0
    patience: int = 0
    schedule: str = "cosine"
    warmup: float = 0.0
    accumulate: int = 1
    clip: float = 0.0
    label_smoothing: float = 0.0
    mixup_alpha: float = 0.0
    mixup_prob: float = 0.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    amp: str = "none"
    compile: bool = False
    seed: int = 0
    workers: int = 0
    device: str = "auto"
    checkpoint: str | None = None
    resume: str | None = None
    soft_labels: str | None = None
    soft_label_weight: float = 0.5

    def schedule_settings(self) -> dict[str, Any]:
        """What fixes the learning rate and the weight decay at every step: a checkpoint records it, and a resumed
        run must repeat it (`deep_torch_common.load_checkpoint`)."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "schedule": self.schedule,
            "warmup": self.warmup,
            "accumulate": self.accumulate,
        }


def stretch_factor(epochs: int, steps_per_epoch: int, min_steps: int) -> int:
    """How many passes over the data make one of the `epochs` epochs, so the run takes at least `min_steps`
    optimizer steps (1: the pack is large enough)."""
    return max(1, math.ceil(min_steps / max(1, epochs * steps_per_epoch)))


def memory_metrics(device: torch.device) -> dict[str, float]:
    """This process's resident memory now and at its peak (MB), and the GPU's peak allocation since the last
    call when training on CUDA."""
    metrics: dict[str, float] = {}
    try:
        import psutil  # lazy: psutil, optional (more portable than /proc)

        metrics["rss_mb"] = psutil.Process().memory_info().rss / 2**20
    except ImportError:
        try:
            with open("/proc/self/statm") as handle:
                metrics["rss_mb"] = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError, AttributeError):
            pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    metrics["peak_rss_mb"] = peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB
    if device.type == "cuda":
        metrics["gpu_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        torch.cuda.reset_peak_memory_stats(device)
    return {key: round(value, 1) for key, value in metrics.items()}
