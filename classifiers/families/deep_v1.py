"""deep_v1: a basic CNN (conv/BN/ReLU/pool blocks, dropout, a small head) in PyTorch, exported to ONNX.

Importing this module does not import torch: the network and the training loop load when `fit` runs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

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

HYPERPARAMS = Hyperparams(
    "deep_v1",
    ("cnn",),
    '"cnn" (the only one).',
    (
        EPOCHS,
        MIN_STEPS,
        BATCH_SIZE,
        IMAGE_SIZE,
        replace(LR, help="AdamW's peak learning rate (cosine decay to 0)"),
        WEIGHT_DECAY,
        WIDTH,
        Param(
            "blocks",
            "int",
            3,
            "conv blocks, each two conv-BN-ReLU layers and a 2×2 max-pool",
            low=1,
            high=5,
            is_main=True,
            tune=Tune(2, 4),
        ),
        replace(
            DROPOUT,
            help="dropout before the head (a quarter of it as channel dropout after each block)",
            is_main=True,
            tune=Tune(0.0, 0.5),
        ),
        PATIENCE,
        Param(
            "augment",
            "bool",
            True,
            "random left-right flips and mild random crops (90-100 % of the area) of training images",
            is_main=True,
            tune=Tune(choices=(True, False)),
        ),
        *RUN_PARAMS,
        *SOFT_LABEL_PARAMS,
    ),
)


@register_family(
    "deep_v1",
    title="Deep v1: a basic CNN (conv/BN/ReLU/pool blocks, dropout) in PyTorch",
    extra="torch",
    requires=("torch", "onnx", "onnxscript"),
    variants=HYPERPARAMS.variants,
)
class DeepV1Classifier(DeepEstimator):
    """A basic CNN trained with AdamW, a cosine learning-rate schedule and early stopping on validation loss.

    Hyperparameters: `HYPERPARAMS`.
    """

    family = "deep_v1"
    HYPERPARAMS = HYPERPARAMS

    def _architecture(self) -> dict[str, Any]:
        return {"width": self.width, "blocks": self.blocks, "dropout": self.dropout}

    def _network(self, n_classes: int) -> Any:
        from classifiers.families.deep_torch_nets import BasicCNN  # lazy: torch

        return BasicCNN(n_classes, width=self.width, blocks=self.blocks, dropout=self.dropout)

    def _train_config(self) -> Any:
        from classifiers.families.deep_torch_augment import AugmentConfig  # lazy: torch
        from classifiers.families.deep_torch_config import TrainConfig  # lazy: torch

        augment = AugmentConfig(crop_scale=0.9, flip=True) if self.augment else AugmentConfig()
        return TrainConfig(
            epochs=self.epochs,
            min_steps=self.min_steps,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            patience=self.patience,
            schedule="cosine",
            augment=augment,
            seed=self.seed,
            workers=self.workers,
            device=self.device,
            checkpoint=self.checkpoint,
            resume=self.resume,
            soft_labels=self.soft_labels,
            soft_label_weight=self.soft_label_weight,
        )
