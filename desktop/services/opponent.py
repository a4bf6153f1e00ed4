"""The AI opponent at play time: an ONNX model run on a pack's images (never torch/sklearn)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from classifiers.batch_prediction import predict_images
from classifiers.heatmap import Heatmap, occlusion_heatmap
from classifiers.pack import Pack
from classifiers.progress import run_to_end
from classifiers.runtime import GAME_THREADS, OnnxClassifier
from classifiers.view import thumbnail_view
from desktop.core.session import Opponent
from desktop.services.catalog import OpponentEntry
from game_rules.answer_rules import AnswerRule, rule_for_difficulty


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
        self, pack: Pack, shas: Sequence[str], *, skip_broken: bool = False, view_px: int | None = None
    ) -> dict[str, dict[str, float]]:
        """{image sha256: {label: probability}} for the given images of the pack, batched.

        Args:
            skip_broken: leave out images that are missing or cannot be decoded instead of raising.
            view_px: the AI sees each image as a view_px × view_px thumbnail (an answer rule's handicap).

        Raises:
            PackError / ImageDecodeError: an image is missing or cannot be decoded (the message names it),
                unless skip_broken.
        """
        work = predict_images(self.classifier, _ViewedPack(pack, view_px), shas, skip_unreadable=skip_broken)
        return run_to_end(work).by_image()

    def answer_rule(self) -> AnswerRule:
        """What this opponent sees before it answers, by its difficulty."""
        return rule_for_difficulty(self.entry.difficulty)

    def heatmap(self, image: np.ndarray, label: str) -> Heatmap:
        """Where the AI looked for `label` (its answer) on an RGB uint8 pack image, as its rule let it see it.

        Raises:
            ValueError: the label is not one of the model's classes.
        """
        classes = list(self.entry.card.classes)
        if label not in classes:
            raise ValueError(f"{label!r} is not a class of model '{self.entry.card.id}' ({classes}).")
        view = thumbnail_view(image, self.answer_rule().view_px)
        return occlusion_heatmap(self.classifier, view, classes.index(label))


class _ViewedPack:
    """A pack whose images come out as the AI's view of them (duck-types the Pack that predict_images reads)."""

    def __init__(self, pack: Pack, view_px: int | None) -> None:
        self._pack, self._view_px = pack, view_px

    def load_image(self, sha256: str) -> np.ndarray:
        return thumbnail_view(self._pack.load_image(sha256), self._view_px)


def load_opponent(entry: OpponentEntry, *, device: str | None = None) -> LoadedOpponent:
    """Load the model and run one dummy batch so the first real round is not slowed by lazy initialisation.

    Raises:
        ModelCardError: the model cannot be loaded (corrupt, or its card does not match its ONNX file).
    """
    started = time.perf_counter()
    classifier = OnnxClassifier(entry.model_dir, device=device, card=entry.card, threads=GAME_THREADS)
    spec = entry.card.input
    classifier.predict_batch([np.zeros((spec.height, spec.width, 3), np.uint8)])
    return LoadedOpponent(entry, classifier, time.perf_counter() - started)
