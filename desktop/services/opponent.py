"""The AI opponent at play time: an ONNX model run on a pack's images (never torch/sklearn)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from classifiers.batch_prediction import predict_images
from classifiers.pack import Pack
from classifiers.progress import run_to_end
from classifiers.runtime import OnnxClassifier
from desktop.core.session import Opponent
from desktop.services.catalog import OpponentEntry


@dataclass
class LoadedOpponent:
    """A model loaded into onnxruntime and warmed up, ready to answer."""

    entry: OpponentEntry
    classifier: OnnxClassifier
    load_seconds: float

    @property
    def rules_view(self) -> Opponent:
        card = self.entry.card
        return Opponent(card.id, card.title, card.onnx_sha256, self.entry.difficulty)

    @property
    def device(self) -> str:
        return self.classifier.metadata()["device"]

    def probabilities(
        self, pack: Pack, shas: Sequence[str], *, skip_broken: bool = False
    ) -> dict[str, dict[str, float]]:
        """{image sha256: {label: probability}} for the given images of the pack, batched.

        Args:
            skip_broken: leave out images that are missing or cannot be decoded instead of raising.

        Raises:
            PackError / ImageDecodeError: an image is missing or cannot be decoded (the message names it),
                unless skip_broken.
        """
        work = predict_images(self.classifier, pack, shas, skip_unreadable=skip_broken)
        return run_to_end(work).by_image()


def load_opponent(entry: OpponentEntry, *, device: str | None = None) -> LoadedOpponent:
    """Load the model and run one dummy batch so the first real round is not slowed by lazy initialisation.

    Raises:
        ModelCardError: the model cannot be loaded (corrupt, or its card does not match its ONNX file).
    """
    started = time.perf_counter()
    classifier = OnnxClassifier(entry.model_dir, device=device, card=entry.card)
    spec = entry.card.input
    classifier.predict_batch([np.zeros((spec.height, spec.width, 3), np.uint8)])
    return LoadedOpponent(entry, classifier, time.perf_counter() - started)
