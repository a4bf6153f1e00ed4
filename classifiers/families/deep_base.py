"""What the PyTorch families share without importing torch: hyperparameter checks and the estimator plumbing.

`DeepEstimator` implements fit / predict_proba / input_spec / export_onnx once; a family subclass names its
hyperparameters, validates its own, and builds its network and training configuration inside methods that
import torch (`deep_torch_common`, `deep_torch_nets`) only when called.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from classifiers.card import InputSpec
from classifiers.errors import ConfigError
from classifiers.families.base import check_trainable
from classifiers.pack import Pack
from classifiers.progress import Progress

DEVICES = ("auto", "cpu", "cuda")
DEFAULT_IMAGE_SIZE = 32
MAX_DEFAULT_IMAGE_SIZE = 64  # a pack of large photos still trains at a CPU-friendly size unless asked otherwise


def require(condition: bool, name: str, value: Any, expectation: str) -> None:
    """Raise ConfigError naming the hyperparameter, its value and what it must be, unless `condition`."""
    if not condition:
        raise ConfigError(f"{name} must be {expectation}, got {value!r}.")


class DeepEstimator:
    """The shared half of a PyTorch family (see `deep_v1.DeepV1Classifier` for the hyperparameters).

    Subclasses set `family` and `_PARAMS`, and implement `_validate_family`, `_architecture`, `_network` and
    `_train_config`. Learned state: `network_`, `mean_`, `std_`, `image_size_`, `classes_`, `training_info_`.
    """

    family: ClassVar[str]
    _PARAMS: ClassVar[tuple[str, ...]]

    variant: str
    epochs: int
    batch_size: int
    image_size: int | None
    lr: float
    weight_decay: float
    width: int
    dropout: float
    patience: int
    seed: int
    workers: int
    device: str
    checkpoint: str | None
    resume: str | None

    def get_params(self) -> dict[str, Any]:
        return {"variant": self.variant, **{name: getattr(self, name) for name in self._PARAMS}}

    # -- hooks --------------------------------------------------------------------------------------------------
    def _validate_family(self) -> None:
        """Check the family's own hyperparameters (raise ConfigError)."""

    def _architecture(self) -> dict[str, Any]:
        """The hyperparameters that shape the network (a checkpoint must match them to be resumed)."""
        raise NotImplementedError

    def _network(self, n_classes: int) -> Any:
        """A new, untrained torch network producing `n_classes` logits."""
        raise NotImplementedError

    def _train_config(self) -> Any:
        """The `deep_torch_config.TrainConfig` for this estimator."""
        raise NotImplementedError

    # -- training -----------------------------------------------------------------------------------------------
    def _validate(self) -> None:
        require(isinstance(self.epochs, int) and self.epochs >= 1, "epochs", self.epochs, "a positive integer")
        require(
            isinstance(self.batch_size, int) and self.batch_size >= 1,
            "batch_size",
            self.batch_size,
            "a positive integer",
        )
        require(
            self.image_size is None or (isinstance(self.image_size, int) and 8 <= self.image_size <= 512),
            "image_size",
            self.image_size,
            "None or an integer from 8 to 512",
        )
        require(self.lr > 0, "lr", self.lr, "positive")
        require(self.weight_decay >= 0, "weight_decay", self.weight_decay, "zero or positive")
        require(isinstance(self.width, int) and self.width >= 4, "width", self.width, "an integer >= 4")
        require(0 <= self.dropout < 1, "dropout", self.dropout, "in [0, 1)")
        require(
            isinstance(self.patience, int) and self.patience >= 0,
            "patience",
            self.patience,
            "0 (no early stopping) or a positive integer",
        )
        require(isinstance(self.workers, int) and self.workers >= 0, "workers", self.workers, "0 or more")
        require(self.device in DEVICES, "device", self.device, f"one of {DEVICES}")
        if self.resume is not None and not Path(self.resume).is_file():
            raise ConfigError(f"No checkpoint at {self.resume}. Check the --resume path, or train without it.")
        self._validate_family()

    def resolved_image_size(self, pack: Pack) -> int:
        """`image_size`, or by default the pack's image size (its larger side, at most 64), else 32."""
        if self.image_size is not None:
            return self.image_size
        hint = pack.image_size
        return min(max(hint), MAX_DEFAULT_IMAGE_SIZE) if hint else DEFAULT_IMAGE_SIZE

    def fit(self, pack: Pack) -> Iterator[Progress]:
        """Train on the pack's train split with early stopping on its val split; yields Progress events."""
        self._validate()
        check_trainable(pack)
        from classifiers.families import deep_torch_common as common  # lazy: torch

        size = self.resolved_image_size(pack)
        n_classes = len(pack.classes)
        identity = {
            "family": self.family,
            "variant": self.variant,
            "classes": list(pack.classes),
            "image_size": size,
            **self._architecture(),
        }
        result = yield from common.fit_network(
            lambda: self._network(n_classes), pack, self._train_config(), image_size=size, identity=identity
        )
        self.network_ = result.network
        self.mean_, self.std_ = result.mean, result.std
        self.image_size_ = size
        self.classes_ = list(pack.classes)
        self.training_info_ = {"image_size": size, **result.info}

    # -- inference and export -----------------------------------------------------------------------------------
    def predict_proba(self, images: Sequence[np.ndarray]) -> np.ndarray:
        from classifiers.families import deep_torch_common as common  # lazy: torch

        return common.predict_proba(self.network_, self.mean_, self.std_, images, self.image_size_)

    def input_spec(self) -> InputSpec:
        size = getattr(self, "image_size_", None) or self.image_size or DEFAULT_IMAGE_SIZE
        return InputSpec(kind="image", height=size, width=size)

    def export_onnx(self, path: Path) -> int:
        from classifiers.families import deep_torch_common as common  # lazy: torch

        return common.export_onnx(self.network_, self.mean_, self.std_, self.image_size_, path)
