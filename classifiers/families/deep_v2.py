"""deep_v2: a ResNet with CBAM or squeeze-excitation attention, trained with modern regularisation, in PyTorch.

Mixup, label smoothing, stochastic torch-op augmentation (random resized crop, flip, colour jitter, random
erasing), gradient accumulation and clipping, a warm-up cosine or one-cycle schedule, optional bf16/fp16
autocast and torch.compile on a GPU. Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from classifiers.errors import ConfigError
from classifiers.families.deep_base import (
    BATCH_SIZE,
    DROPOUT,
    EPOCHS,
    IMAGE_SIZE,
    LR,
    MIN_STEPS,
    PATIENCE,
    RUN_PARAMS,
    SOFT_LABEL_PARAMS,
    WEIGHT_DECAY,
    WIDTH,
    DeepEstimator,
)
from classifiers.families.params import Hyperparams, Param, Tune
from classifiers.registry import register_family

ATTENTIONS = ("cbam", "se")
SCHEDULES = ("cosine", "onecycle")
AMP_MODES = ("none", "bf16", "fp16")


HYPERPARAMS = Hyperparams(
    "deep_v2",
    ATTENTIONS,
    'the attention in every residual block: "cbam" (channel + spatial) or "se" (channel only).',
    (
        replace(EPOCHS, default=40),
        MIN_STEPS,
        replace(BATCH_SIZE, help="images per forward pass"),
        IMAGE_SIZE,
        replace(LR, default=3e-3),
        WEIGHT_DECAY,
        replace(
            WIDTH, help="channels of the stem and first stage; each later stage halves the resolution and doubles them"
        ),
        Param("stages", "int", 3, "residual stages", low=1, high=5, is_main=True),
        Param("depth", "int", 1, "residual blocks per stage", low=1, high=8, is_main=True, tune=Tune(1, 2)),
        replace(DROPOUT, default=0.2, tune=Tune(0.0, 0.4)),
        replace(PATIENCE, default=8),
        Param(
            "crop_scale",
            "float",
            0.7,
            "random resized crops keep between crop_scale and all of the image area (1: no crop)",
            low=0.05,
            high=1.0,
            tune=Tune(0.6, 1.0),
        ),
        Param("flip", "bool", True, "random left-right flips"),
        Param("jitter", "float", 0.2, "brightness/contrast/saturation jitter strength (0: off)", low=0.0, high=0.95),
        Param("erase_prob", "float", 0.25, "probability of random erasing per image (0: off)", low=0.0, high=1.0),
        Param(
            "mixup_alpha",
            "float",
            0.2,
            "Beta(alpha, alpha) mixing weights (0: no mixup)",
            low=0.0,
            high=10.0,
            is_main=True,
            tune=Tune(choices=(0.0, 0.2, 0.4)),
        ),
        Param("mixup_prob", "float", 0.5, "probability that a batch is mixed", low=0.0, high=1.0),
        Param(
            "label_smoothing",
            "float",
            0.1,
            "target smoothing",
            low=0.0,
            high=0.95,
            is_main=True,
            tune=Tune(0.0, 0.15),
        ),
        Param("accumulate", "int", 1, "forward passes per optimizer step (gradient accumulation)", low=1, high=256),
        Param("clip", "float", 2.0, "gradient-norm clipping threshold (0: no clipping)", low=0.0, high=100.0),
        Param(
            "schedule",
            "choice",
            "cosine",
            "learning-rate schedule, after the warm-up",
            choices=SCHEDULES,
            tune=Tune(choices=SCHEDULES),
        ),
        Param("warmup", "float", 1.0, "learning-rate warm-up in epochs (at most epochs)", low=0.0, high=100.0),
        Param("amp", "choice", "none", "mixed-precision autocast, used only on a GPU", choices=AMP_MODES),
        Param("compile", "bool", False, "compile the network with torch.compile, used only on a GPU"),
        *RUN_PARAMS,
        *SOFT_LABEL_PARAMS,
    ),
)


@register_family(
    "deep_v2",
    title="Deep v2: a ResNet with CBAM or squeeze-excitation attention, mixup and augmentation, in PyTorch",
    extra="torch",
    requires=("torch", "onnx", "onnxscript"),
    variants=ATTENTIONS,
)
class DeepV2Classifier(DeepEstimator):
    """A small attention ResNet; hyperparameters: `HYPERPARAMS`."""

    family = "deep_v2"
    HYPERPARAMS = HYPERPARAMS

    def _check_family(self) -> None:
        super()._check_family()
        if self.warmup > self.epochs:
            raise ConfigError(f"warmup must be from 0 to epochs ({self.epochs}), got {self.warmup!r}.")

    def _architecture(self) -> dict[str, Any]:
        return {"width": self.width, "stages": self.stages, "depth": self.depth, "dropout": self.dropout}

    def _network(self, n_classes: int) -> Any:
        from classifiers.families.deep_torch_nets import AttentionResNet  # lazy: torch

        return AttentionResNet(
            n_classes,
            attention=self.variant,
            width=self.width,
            stages=self.stages,
            depth=self.depth,
            dropout=self.dropout,
        )

    def _train_config(self) -> Any:
        from classifiers.families.deep_torch_augment import AugmentConfig  # lazy: torch
        from classifiers.families.deep_torch_config import TrainConfig  # lazy: torch

        augment = AugmentConfig(
            crop_scale=self.crop_scale, flip=self.flip, jitter=self.jitter, erase_prob=self.erase_prob
        )
        return TrainConfig(
            epochs=self.epochs,
            min_steps=self.min_steps,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            patience=self.patience,
            schedule=self.schedule,
            warmup=self.warmup,
            accumulate=self.accumulate,
            clip=self.clip,
            label_smoothing=self.label_smoothing,
            mixup_alpha=self.mixup_alpha,
            mixup_prob=self.mixup_prob,
            augment=augment,
            amp=self.amp,
            compile=self.compile,
            seed=self.seed,
            workers=self.workers,
            device=self.device,
            checkpoint=self.checkpoint,
            resume=self.resume,
            soft_labels=self.soft_labels,
            soft_label_weight=self.soft_label_weight,
        )
