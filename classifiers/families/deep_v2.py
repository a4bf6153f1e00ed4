"""deep_v2: a ResNet with CBAM or squeeze-excitation attention, trained with modern regularisation, in PyTorch.

Mixup, label smoothing, stochastic torch-op augmentation (random resized crop, flip, colour jitter, random
erasing), gradient accumulation and clipping, a warm-up cosine or one-cycle schedule, optional bf16/fp16
autocast and torch.compile on a GPU. Importing this module does not import torch.
"""

from __future__ import annotations

from typing import Any

from classifiers.families.deep_base import DeepEstimator, require
from classifiers.registry import register_family

ATTENTIONS = ("cbam", "se")
SCHEDULES = ("cosine", "onecycle")
AMP_MODES = ("none", "bf16", "fp16")


@register_family(
    "deep_v2",
    title="Deep v2: a ResNet with CBAM or squeeze-excitation attention, mixup and augmentation, in PyTorch",
    extra="torch",
    requires=("torch", "onnx", "onnxscript"),
    variants=ATTENTIONS,
)
class DeepV2Classifier(DeepEstimator):
    """A small attention ResNet.

    Args:
        variant: the attention in every residual block: "cbam" (channel + spatial) or "se" (channel only).
        epochs: the most epochs to train (early stopping may end sooner).
        batch_size: images per forward pass.
        image_size: square input side; None: the pack's image size (its larger side, at most 64).
        lr: AdamW's peak learning rate.
        weight_decay: AdamW's decoupled weight decay.
        width: channels of the stem and first stage; each later stage halves the resolution and doubles them.
        stages: residual stages.
        depth: residual blocks per stage.
        dropout: dropout before the head.
        patience: stop after this many epochs without a lower validation loss (0: never stop early); the
            weights of the best epoch are restored either way.
        crop_scale: random resized crops keep between crop_scale and all of the image area (1.0: no crop).
        flip: random left-right flips.
        jitter: brightness/contrast/saturation jitter strength (0: off).
        erase_prob: probability of random erasing per image (0: off).
        mixup_alpha: Beta(alpha, alpha) mixing weights (0: no mixup).
        mixup_prob: probability that a batch is mixed.
        label_smoothing: target smoothing in [0, 1).
        accumulate: forward passes per optimizer step (gradient accumulation).
        clip: gradient-norm clipping threshold (0: no clipping).
        schedule: "cosine" or "onecycle" learning-rate schedule.
        warmup: warm-up length in epochs.
        amp: "none", "bf16" or "fp16" autocast, used only on a GPU.
        compile: torch.compile the network, used only on a GPU.
        seed: seeds everything random; on the CPU a seed reproduces a model.
        workers: DataLoader worker processes decoding images (0: decode in the training process).
        device: "auto" (CUDA when available), "cpu" or "cuda".
        checkpoint: write a resumable checkpoint to this path after every epoch.
        resume: continue training from this checkpoint (same architecture, pack classes and image size).
    """

    family = "deep_v2"
    _PARAMS = (
        "epochs",
        "batch_size",
        "image_size",
        "lr",
        "weight_decay",
        "width",
        "stages",
        "depth",
        "dropout",
        "patience",
        "crop_scale",
        "flip",
        "jitter",
        "erase_prob",
        "mixup_alpha",
        "mixup_prob",
        "label_smoothing",
        "accumulate",
        "clip",
        "schedule",
        "warmup",
        "amp",
        "compile",
        "seed",
        "workers",
        "device",
        "checkpoint",
        "resume",
    )

    def __init__(
        self,
        variant: str = "cbam",
        *,
        epochs: int = 40,
        batch_size: int = 64,
        image_size: int | None = None,
        lr: float = 3e-3,
        weight_decay: float = 5e-4,
        width: int = 32,
        stages: int = 3,
        depth: int = 1,
        dropout: float = 0.2,
        patience: int = 8,
        crop_scale: float = 0.7,
        flip: bool = True,
        jitter: float = 0.2,
        erase_prob: float = 0.25,
        mixup_alpha: float = 0.2,
        mixup_prob: float = 0.5,
        label_smoothing: float = 0.1,
        accumulate: int = 1,
        clip: float = 2.0,
        schedule: str = "cosine",
        warmup: float = 1.0,
        amp: str = "none",
        compile: bool = False,
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
        self.stages = stages
        self.depth = depth
        self.dropout = dropout
        self.patience = patience
        self.crop_scale = crop_scale
        self.flip = flip
        self.jitter = jitter
        self.erase_prob = erase_prob
        self.mixup_alpha = mixup_alpha
        self.mixup_prob = mixup_prob
        self.label_smoothing = label_smoothing
        self.accumulate = accumulate
        self.clip = clip
        self.schedule = schedule
        self.warmup = warmup
        self.amp = amp
        self.compile = compile
        self.seed = seed
        self.workers = workers
        self.device = device
        self.checkpoint = checkpoint
        self.resume = resume

    def _validate_family(self) -> None:
        require(self.variant in ATTENTIONS, "variant (attention)", self.variant, f"one of {ATTENTIONS}")
        require(isinstance(self.stages, int) and 1 <= self.stages <= 5, "stages", self.stages, "from 1 to 5")
        require(isinstance(self.depth, int) and 1 <= self.depth <= 8, "depth", self.depth, "from 1 to 8")
        require(0.05 <= self.crop_scale <= 1, "crop_scale", self.crop_scale, "in [0.05, 1]")
        require(0 <= self.jitter < 1, "jitter", self.jitter, "in [0, 1)")
        require(0 <= self.erase_prob <= 1, "erase_prob", self.erase_prob, "in [0, 1]")
        require(self.mixup_alpha >= 0, "mixup_alpha", self.mixup_alpha, "zero (off) or positive")
        require(0 <= self.mixup_prob <= 1, "mixup_prob", self.mixup_prob, "in [0, 1]")
        require(0 <= self.label_smoothing < 1, "label_smoothing", self.label_smoothing, "in [0, 1)")
        require(
            isinstance(self.accumulate, int) and self.accumulate >= 1,
            "accumulate",
            self.accumulate,
            "a positive integer",
        )
        require(self.clip >= 0, "clip", self.clip, "zero (off) or positive")
        require(self.schedule in SCHEDULES, "schedule", self.schedule, f"one of {SCHEDULES}")
        require(0 <= self.warmup <= self.epochs, "warmup", self.warmup, f"from 0 to epochs ({self.epochs})")
        require(self.amp in AMP_MODES, "amp", self.amp, f"one of {AMP_MODES}")

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
        )
