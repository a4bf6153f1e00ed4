"""deep_v1: a basic CNN (conv/BN/ReLU/pool blocks, dropout, a small head) in PyTorch, exported to ONNX.

Importing this module does not import torch: the network and the training loop load when `fit` runs.
"""

from __future__ import annotations

from typing import Any

from classifiers.families.deep_base import DeepEstimator, require
from classifiers.registry import register_family


@register_family(
    "deep_v1",
    title="Deep v1: a basic CNN (conv/BN/ReLU/pool blocks, dropout) in PyTorch",
    extra="torch",
    requires=("torch", "onnx", "onnxscript"),
    variants=("cnn",),
)
class DeepV1Classifier(DeepEstimator):
    """A basic CNN trained with AdamW, a cosine learning-rate schedule and early stopping on validation loss.

    Args:
        variant: "cnn" (the only one).
        epochs: the most epochs to train (early stopping may end sooner).
        batch_size: images per step.
        image_size: square input side; None: the pack's image size (its larger side, at most 64).
        lr: AdamW's peak learning rate (cosine decay to 0).
        weight_decay: AdamW's decoupled weight decay.
        width: channels of the first block; each block doubles them.
        blocks: conv blocks, each two conv-BN-ReLU layers and a 2×2 max-pool.
        dropout: dropout before the head (a quarter of it as channel dropout after each block).
        patience: stop after this many epochs without a lower validation loss (0: never stop early); the
            weights of the best epoch are restored either way.
        augment: random left-right flips and mild random crops (90-100 % of the area) of training images.
        seed: seeds the weights, shuffling, augmentation and dropout; on the CPU a seed reproduces a model.
        workers: DataLoader worker processes decoding images (0: decode in the training process).
        device: "auto" (CUDA when available), "cpu" or "cuda".
        checkpoint: write a resumable checkpoint to this path after every epoch.
        resume: continue training from this checkpoint (same architecture, pack classes and image size).
    """

    family = "deep_v1"
    _PARAMS = (
        "epochs",
        "batch_size",
        "image_size",
        "lr",
        "weight_decay",
        "width",
        "blocks",
        "dropout",
        "patience",
        "augment",
        "seed",
        "workers",
        "device",
        "checkpoint",
        "resume",
    )

    def __init__(
        self,
        variant: str = "cnn",
        *,
        epochs: int = 30,
        batch_size: int = 64,
        image_size: int | None = None,
        lr: float = 2e-3,
        weight_decay: float = 5e-4,
        width: int = 32,
        blocks: int = 3,
        dropout: float = 0.3,
        patience: int = 6,
        augment: bool = True,
        seed: int = 0,
        workers: int = 2,
        device: str = "auto",
        checkpoint: str | None = None,
        resume: str | None = None,
    ) -> None:
        self.variant = variant
        self.epochs = epochs
        self.batch_size = batch_size
        self.image_size = image_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.width = width
        self.blocks = blocks
        self.dropout = dropout
        self.patience = patience
        self.augment = augment
        self.seed = seed
        self.workers = workers
        self.device = device
        self.checkpoint = checkpoint
        self.resume = resume

    def _validate_family(self) -> None:
        require(self.variant == "cnn", "variant", self.variant, "'cnn'")
        require(isinstance(self.blocks, int) and 1 <= self.blocks <= 5, "blocks", self.blocks, "from 1 to 5")

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
        )
