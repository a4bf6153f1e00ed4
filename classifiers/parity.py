"""The export parity check: an ONNX model must reproduce its framework model's probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classifiers.errors import ParityError

DEFAULT_TOLERANCE = 1e-4


@dataclass(frozen=True)
class ParityReport:
    max_abs_diff: float
    argmax_agreement: float
    n_images: int

    def as_dict(self) -> dict[str, float]:
        return {"max_abs_diff": self.max_abs_diff, "argmax_agreement": self.argmax_agreement, "n": self.n_images}


def check_parity(reference: np.ndarray, exported: np.ndarray, *, tolerance: float = DEFAULT_TOLERANCE) -> ParityReport:
    """Compare two (N, C) probability arrays.

    Raises:
        ParityError: when any probability differs by more than `tolerance` or any argmax differs.
    """
    reference = np.asarray(reference, dtype=np.float64)
    exported = np.asarray(exported, dtype=np.float64)
    if reference.shape != exported.shape:
        raise ParityError(f"ONNX output shape {exported.shape} differs from the framework's {reference.shape}.")
    diff = float(np.max(np.abs(reference - exported))) if reference.size else 0.0
    same = reference.argmax(1) == exported.argmax(1)
    report = ParityReport(diff, float(same.mean()) if len(same) else 1.0, len(reference))
    if diff > tolerance or not same.all():
        raise ParityError(
            f"ONNX export disagrees with the framework model: max abs diff {diff:.2e} (limit {tolerance:.0e}), "
            f"{int((~same).sum())} of {len(same)} top-1 answers differ. The exported file was not registered."
        )
    return report
