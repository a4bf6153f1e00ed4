"""What the PyTorch families share without importing torch: hyperparameter checks and the estimator plumbing.

`DeepEstimator` implements fit / predict_proba / input_spec / export_onnx once; a family subclass declares its
hyperparameters (from the shared Params here) and builds its network and training configuration inside methods that
import torch (`deep_torch_common`, `deep_torch_nets`) only when called.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from classifiers.card import DEFAULT_RESIZE, InputSpec
from classifiers.errors import ConfigError
from classifiers.families.base import DeclaredEstimator, check_trainable
from classifiers.families.params import Param, Tune
from classifiers.families.threads import THREADS, torch_threads
from classifiers.pack import Pack
from classifiers.progress import Progress

DEVICES = ("auto", "cpu", "cuda")
DEFAULT_IMAGE_SIZE = 32
MAX_DEFAULT_IMAGE_SIZE = 64  # a pack of large photos still trains at a CPU-friendly size unless asked otherwise

# Declarations both PyTorch families use; a family changes a default or the help with `dataclasses.replace`.
EPOCHS = Param(
    "epochs", "int", 30, "the most epochs to train (early stopping may end sooner)", low=1, high=1000, is_main=True
)
MIN_STEPS = Param(
    "min_steps",
    "int",
    600,
    "the fewest optimizer steps: on a small pack each epoch becomes several passes over the images (patience "
    "and warm-up stretched alike) until the run holds this many; the card records the epochs run (0: epochs alone)",
    low=0,
    high=10_000_000,
    is_main=True,
)
BATCH_SIZE = Param(
    "batch_size", "int", 64, "images per step", low=1, high=4096, is_main=True, tune=Tune(choices=(32, 64, 128))
)
IMAGE_SIZE = Param(
    "image_size",
    "int",
    None,
    "square input side in pixels; none: the pack's image size (its larger side, at most 64)",
    low=8,
    high=512,
    optional=True,
    is_main=True,
)
LR = Param(
    "lr",
    "float",
    2e-3,
    "AdamW's peak learning rate",
    low=1e-6,
    high=10.0,
    log=True,
    is_main=True,
    tune=Tune(3e-4, 1e-2, log=True),
)
WEIGHT_DECAY = Param(
    "weight_decay",
    "float",
    5e-4,
    "AdamW's decoupled weight decay",
    low=0.0,
    high=1.0,
    log=True,
    tune=Tune(1e-5, 1e-2, log=True),
)
WIDTH = Param(
    "width",
    "int",
    32,
    "channels of the first block; each later block doubles them",
    low=4,
    high=512,
    is_main=True,
    tune=Tune(choices=(16, 24, 32, 48)),
)
DROPOUT = Param("dropout", "float", 0.3, "dropout before the classifier head", low=0.0, high=0.95)
PATIENCE = Param(
    "patience",
    "int",
    6,
    "stop after this many epochs without a lower validation loss (0: never stop early); the weights of the "
    "best epoch are restored either way",
    low=0,
    high=1000,
    is_main=True,
)
RUN_PARAMS = (
    Param(
        "seed",
        "int",
        0,
        "seeds the weights, shuffling, augmentation and dropout; on the CPU a seed reproduces a model",
        low=0,
        high=2**31 - 1,
    ),
    Param(
        "workers",
        "int",
        2,
        "DataLoader worker processes decoding images (0: decode in the training process)",
        low=0,
        high=64,
        in_card=False,
    ),
    Param("device", "choice", "auto", '"auto" (CUDA when available), "cpu" or "cuda"', choices=DEVICES, in_card=False),
    THREADS,
    Param(
        "checkpoint",
        "text",
        None,
        "write a resumable checkpoint to this path after every epoch (the CLI's default: "
        "<workspace>/checkpoints/<model id>.pt, or the --resume file)",
        optional=True,
        in_form=False,
        in_card=False,
    ),
    Param(
        "resume",
        "text",
        None,
        "continue training from this checkpoint (same architecture, schedule, pack classes and image size)",
        optional=True,
        in_form=False,
        in_card=False,  # the card records whether and after which epoch a run resumed (`resumed`)
    ),
)


# Training on human uncertainty (issue 20): the answer distributions of a human-label export as soft targets.
SOFT_LABEL_PARAMS = (
    Param(
        "soft_labels",
        "text",
        None,
        "a human-label export (human_labels.jsonl from eyevsai-server export-human-labels): its answer "
        "distributions become soft targets for the training images it covers (the others keep their hard label)",
        optional=True,
        in_form=False,
    ),
    Param(
        "soft_label_weight",
        "float",
        0.5,
        "with --soft-labels: the target is this share of the human distribution plus the rest of the hard label",
        low=0.0,
        high=1.0,
    ),
)


class DeepEstimator(DeclaredEstimator):
    """The shared half of a PyTorch family (see `deep_v1.DeepV1Classifier`).

    Subclasses set `family` and `HYPERPARAMS`, and implement `_architecture`, `_network` and `_train_config`
    (and `_check_family` for rules between values). Learned state: `network_`, `mean_`, `std_`, `image_size_`,
    `classes_`, `training_info_`.
    """

    family: ClassVar[str]

    # -- hooks --------------------------------------------------------------------------------------------------
    def _check_family(self) -> None:
        if self.resume is not None and not Path(self.resume).is_file():
            raise ConfigError(f"No checkpoint at {self.resume}. Check the --resume path, or train without it.")
        if self.soft_labels is not None and not Path(self.soft_labels).exists():
            raise ConfigError(
                f"No soft labels at {self.soft_labels}. Pass the human_labels.jsonl of an export, or train without it."
            )
        if self.device == "cuda":  # a GPU that is not there is a wrong option, refused before any run is recorded
            from classifiers.families.deep_torch_common import pick_device  # lazy: torch

            pick_device(self.device)

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
    def resolved_image_size(self, pack: Pack) -> int:
        """`image_size`, or by default the pack's image size (its larger side, at most 64), else 32."""
        if self.image_size is not None:
            return self.image_size
        hint = pack.image_size
        return min(max(hint), MAX_DEFAULT_IMAGE_SIZE) if hint else DEFAULT_IMAGE_SIZE

    def fit(self, pack: Pack) -> Iterator[Progress]:
        """Train on the pack's train split with early stopping on its val split; yields Progress events."""
        self.check_params()
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
        with torch_threads(self.threads) as threads:
            result = yield from common.fit_network(
                lambda: self._network(n_classes), pack, self._train_config(), image_size=size, identity=identity
            )
        self.network_ = result.network
        self.mean_, self.std_ = result.mean, result.std
        self.image_size_ = size
        self.classes_ = list(pack.classes)
        self.training_info_ = {"image_size": size, **result.info, "threads": threads}

    # -- inference and export -----------------------------------------------------------------------------------
    def predict_proba(self, images: Sequence[np.ndarray]) -> np.ndarray:
        from classifiers.families import deep_torch_common as common  # lazy: torch

        return common.predict_proba(self.network_, self.mean_, self.std_, images, self.image_size_)

    def input_spec(self) -> InputSpec:
        size = getattr(self, "image_size_", None) or self.image_size or DEFAULT_IMAGE_SIZE
        return InputSpec(kind="image", height=size, width=size, resize=DEFAULT_RESIZE)

    def export_onnx(self, path: Path) -> int:
        from classifiers.families import deep_torch_common as common  # lazy: torch

        return common.export_onnx(self.network_, self.mean_, self.std_, self.image_size_, path)
