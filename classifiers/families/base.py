"""The contract every classifier family implements (scikit-learn's estimator rules, generator progress)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from classifiers.card import InputSpec
from classifiers.errors import PackError
from classifiers.families.params import Hyperparams
from classifiers.pack import Pack
from classifiers.progress import Progress


class Estimator(Protocol):
    """A family's estimator.

    Hyperparameters are keyword arguments stored unchanged by `__init__` (returned by `get_params`) and
    validated by `check_params`, the first step of `fit`; learned state ends in `_`; `classes_` is the output
    column order.
    """

    variant: str
    classes_: list[str]

    def get_params(self) -> dict[str, Any]: ...

    def check_params(self) -> None:
        """Raise ConfigError for a hyperparameter value that cannot work, before any work is done."""
        ...

    def fit(self, pack: Pack) -> Iterator[Progress]:
        """Train on the pack's train (and val) splits, yielding progress; the estimator is fitted afterwards."""
        ...

    def predict_proba(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Framework-side probabilities (N, C) for RGB uint8 images, for the export parity check."""
        ...

    def input_spec(self) -> InputSpec: ...

    def export_onnx(self, path: Path) -> int:
        """Write the ONNX graph (input as `input_spec`, output `probabilities`); return its opset."""
        ...


class DeclaredEstimator:
    """An estimator whose hyperparameters come from its family's `HYPERPARAMS` declaration.

    The constructor takes the variant and the declared hyperparameters as keyword arguments and stores them
    unchanged (its signature, for `inspect` and `help`, is the declaration's); `get_params` returns them and
    `check_params` checks them against the declaration, then runs the family's own `_check_family`.
    """

    HYPERPARAMS: ClassVar[Hyperparams]
    variant: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "HYPERPARAMS" in cls.__dict__:
            cls.__signature__ = cls.HYPERPARAMS.signature()  # type: ignore[attr-defined]

    def __init__(self, variant: str | None = None, **params: Any) -> None:
        declared = self.HYPERPARAMS
        declared.check_names(params)
        self.variant = declared.variants[0] if variant is None else variant
        for param in declared:
            setattr(self, param.name, params.get(param.name, param.default))

    def get_params(self) -> dict[str, Any]:
        return {"variant": self.variant, **{name: getattr(self, name) for name in self.HYPERPARAMS.names}}

    def check_params(self) -> None:
        """Check every value against the declaration, then the family's own rules (ConfigError)."""
        params = self.get_params()
        self.HYPERPARAMS.check(params.pop("variant"), params)
        self._check_family()

    def _check_family(self) -> None:
        """Rules between values, or about files, that one Param cannot say (raise ConfigError)."""


def load_split_images(pack: Pack, split: str, limit: int | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Decoded images and integer labels of a labelled split (optionally the first `limit`)."""
    shas, labels = pack.labelled(split)
    if limit is not None:
        shas, labels = shas[:limit], labels[:limit]
    return [pack.load_image(sha) for sha in shas], labels


def check_trainable(pack: Pack, min_per_class: int = 2) -> None:
    """Raise a clear error when the train split cannot train a classifier."""

    _, labels = pack.labelled("train")
    counts = np.bincount(labels, minlength=len(pack.classes))
    empty = [pack.classes[i] for i, c in enumerate(counts) if c < min_per_class]
    if empty:
        raise PackError(
            f"Pack '{pack.id}' has fewer than {min_per_class} training images for class(es) {', '.join(empty)}. "
            "Add images to those classes or rebuild the pack without them."
        )
