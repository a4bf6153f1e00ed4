"""Running a model: `OnnxClassifier` loads a card + ONNX file and predicts through onnxruntime.

The execution provider is chosen CUDA → CPU; what actually runs is read back from the session (the GPU build
of onnxruntime silently falls back to CPU when CUDA cannot load), and reported by `provider`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.card import ONNX_FILE, ModelCard, read_card
from classifiers.errors import ModelCardError
from classifiers.features import FeatureParams, extract_batch
from classifiers.preprocess import prepare_batch

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
DEVICE_ENV = "EYEVSAI_DEVICE"  # "cpu" forces the CPU; "auto" (default) tries CUDA first


def _ort() -> Any:
    import onnxruntime

    return onnxruntime


def preferred_providers(device: str | None = None) -> list[str]:
    """Providers to ask for, best first, among those this onnxruntime build has."""
    device = (device or os.environ.get(DEVICE_ENV) or "auto").lower()
    available = _ort().get_available_providers()
    wanted = [CPU] if device == "cpu" else [CUDA, CPU]
    return [p for p in wanted if p in available] or [CPU]


_dlls_preloaded = False


def _preload_cuda_dlls() -> None:
    """Load CUDA/cuDNN from the nvidia-* wheels when onnxruntime-gpu can (onnxruntime >= 1.21)."""
    global _dlls_preloaded  # once per process: preloading twice is harmless but slow
    ort = _ort()
    if _dlls_preloaded or not hasattr(ort, "preload_dlls"):
        return
    _dlls_preloaded = True
    try:
        ort.preload_dlls()
    except Exception as exc:  # a missing CUDA library only means CPU inference
        log.info("CUDA libraries could not be preloaded: %s", exc)


def device_label(provider: str) -> str:
    return {CUDA: "CUDA (GPU)", CPU: "CPU"}.get(provider, provider.removesuffix("ExecutionProvider"))


class OnnxClassifier:
    """A model card plus its ONNX session.

    Args:
        model_dir: folder holding model.json and model.onnx.
        device: "auto" (CUDA when it loads, else CPU) or "cpu"; defaults to $EYEVSAI_DEVICE or "auto".
        card: an already-read card (skips reading and hashing it again).

    Raises:
        ModelCardError: missing/corrupt card or ONNX file, or a graph that does not match its card.
    """

    def __init__(self, model_dir: str | Path, *, device: str | None = None, card: ModelCard | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.card = card or read_card(self.model_dir)
        providers = preferred_providers(device)
        if CUDA in providers:
            _preload_cuda_dlls()
        ort = _ort()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # CUDA load failures are reported through `provider`, not stderr spam
        try:
            self.session = ort.InferenceSession(str(self.model_dir / ONNX_FILE), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types for corrupt graphs
            raise ModelCardError(f"Model '{self.card.id}' could not be loaded by onnxruntime: {exc}") from exc
        self.requested_providers = providers
        self.provider: str = self.session.get_providers()[0]
        self._input = self.session.get_inputs()[0]
        self._output = self._pick_output()
        self._features = FeatureParams.from_card(self.card.input.extractor) if self._is_features else None

    @property
    def _is_features(self) -> bool:
        return self.card.input.kind == "features"

    @property
    def fell_back_to_cpu(self) -> bool:
        return CUDA in self.requested_providers and self.provider != CUDA

    def _pick_output(self) -> str:
        outputs = self.session.get_outputs()
        n_classes = len(self.card.classes)
        for output in outputs:
            if output.name == "probabilities":
                return output.name
        for output in outputs:
            if "float" in output.type and output.shape and output.shape[-1] == n_classes:
                return output.name
        raise ModelCardError(
            f"Model '{self.card.id}': no ONNX output gives {n_classes} class probabilities "
            f"(outputs: {[o.name for o in outputs]}). The card does not match its ONNX file."
        )

    def prepare(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """The graph's input for RGB uint8 images: resized pixels, or feature vectors."""
        if self._is_features:
            return extract_batch(list(images), self._features)
        return prepare_batch(list(images), self.card.input.height, self.card.input.width)

    def run(self, inputs: np.ndarray) -> np.ndarray:
        """Probabilities (N, C) for an already-prepared input batch."""
        result = self.session.run([self._output], {self._input.name: inputs})[0]
        probs = np.asarray(result, dtype=np.float32)
        if probs.ndim != 2 or probs.shape[1] != len(self.card.classes):
            raise ModelCardError(
                f"Model '{self.card.id}' returned shape {probs.shape}, expected (N, {len(self.card.classes)})."
            )
        return probs

    def predict_batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities (N, C), columns in `card.classes` order, for RGB uint8 images of any size."""
        if not images:
            return np.zeros((0, len(self.card.classes)), np.float32)
        return self.run(self.prepare(images))

    def predict(self, image: np.ndarray) -> dict[str, float]:
        """{label: probability} for one RGB uint8 image."""
        probs = self.predict_batch([image])[0]
        return {label: float(p) for label, p in zip(self.card.classes, probs, strict=True)}

    def metadata(self) -> dict[str, Any]:
        """What a player or a report wants to know about the running model."""
        return {
            "id": self.card.id,
            "title": self.card.title,
            "family": self.card.family,
            "variant": self.card.variant,
            "pack_id": self.card.pack_id,
            "classes": list(self.card.classes),
            "test_accuracy": self.card.test_accuracy,
            "difficulty": self.card.difficulty,
            "onnx_sha256": self.card.onnx_sha256,
            "provider": self.provider,
            "device": device_label(self.provider),
            "fell_back_to_cpu": self.fell_back_to_cpu,
        }
