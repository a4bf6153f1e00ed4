"""Running a model: `OnnxClassifier` loads a card + ONNX file and predicts through onnxruntime.

The execution provider is chosen CUDA → CPU: CUDA is asked for only when this onnxruntime build lists it, and
counts only when the session really runs on it (the GPU build silently falls back to CPU when CUDA cannot load).
What runs is reported by `provider`; why a GPU that was expected is not used, by `fallback_reason`.

onnxruntime and onnxruntime-gpu install the same package folder, so exactly one of them may be installed;
`install_problem()` says when that is not so.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.card import ONNX_FILE, ModelCard, read_card
from classifiers.errors import MissingExtraError, ModelCardError
from classifiers.features import FeatureParams, extract_batch
from classifiers.preprocess import prepare_batch

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
DEVICE_ENV = "EYEVSAI_DEVICE"  # "cpu" forces the CPU; "auto" (default) tries CUDA first


@dataclass(frozen=True)
class SessionThreads:
    """onnxruntime's CPU thread pool for one session; None leaves onnxruntime's default.

    Attributes:
        intra_op: `intra_op_num_threads` (onnxruntime's default: one per physical core).
        spinning: `session.intra_op.allow_spinning`: idle pool threads spin for the next op instead of sleeping
            (onnxruntime's default: on), which saves microseconds on an idle machine and burns a core otherwise.
    """

    intra_op: int | None = None
    spinning: bool | None = None


# What the game plays with (docs/architecture.md, "Inference threads"): spinning off (it lengthened the tail
# everywhere, and burns the core Qt needs), two threads (a second thread shortened the heavier models' rounds on a
# busy machine and cost nothing on a quiet one once threads sleep between rounds).
GAME_THREADS = SessionThreads(intra_op=2, spinning=False)


def _ort() -> Any:
    """The onnxruntime module.

    Raises:
        MissingExtraError: no onnxruntime build is installed (the train extras name none: the user picks the CPU
            or the GPU build, see pyproject.toml).
    """
    try:
        import onnxruntime  # lazy: onnxruntime (a training box installs its build separately)
    except ModuleNotFoundError as exc:
        if exc.name != "onnxruntime":
            raise
        raise MissingExtraError(
            "Running a model needs onnxruntime, which is not installed. Install one build: "
            "`pip install 'eyevsai[cpu]'`, or `pip install 'eyevsai[gpu]'` for the game on an NVIDIA GPU."
        ) from exc
    return onnxruntime


def _device(device: str | None) -> str:
    return (device or os.environ.get(DEVICE_ENV) or "auto").lower()


def preferred_providers(device: str | None = None) -> list[str]:
    """Providers to ask for, best first, among those this onnxruntime build has."""
    available = _ort().get_available_providers()
    wanted = [CPU] if _device(device) == "cpu" else [CUDA, CPU]
    return [p for p in wanted if p in available] or [CPU]


# pip names of the onnxruntime builds: each installs the same `onnxruntime` folder, so at most one may be present.
ORT_BUILDS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino", "onnxruntime-qnn")
GPU_BUILD = "onnxruntime-gpu"


def installed_builds() -> list[str]:
    """The onnxruntime builds installed in this environment (pip names), from their package metadata."""
    found = []
    for name in ORT_BUILDS:
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found.append(name)
    return found


def install_problem(builds: Sequence[str] | None = None) -> str | None:
    """A message when more than one onnxruntime build is installed (they overwrite each other's files), else None."""
    builds = installed_builds() if builds is None else list(builds)
    if len(builds) < 2:
        return None
    keep = GPU_BUILD if GPU_BUILD in builds else builds[0]
    return (
        f"{' and '.join(builds)} are installed together; they share one 'onnxruntime' folder, so the GPU "
        f"provider may be missing or onnxruntime broken. Keep one: pip uninstall -y {' '.join(builds)} && "
        f"pip install {keep}"
    )


def expects_gpu() -> bool:
    """True when the GPU build of onnxruntime is installed, so running on the CPU deserves a notice."""
    return GPU_BUILD in installed_builds()


_preload_error: str | None = None
_dlls_preloaded = False


def _preload_cuda_dlls() -> str | None:
    """Load CUDA/cuDNN from the nvidia-* wheels when onnxruntime-gpu can (onnxruntime >= 1.21).

    Returns:
        Why preloading failed, or None (also when this onnxruntime has no preload_dlls).
    """
    global _dlls_preloaded, _preload_error  # once per process: preloading twice is harmless but slow
    ort = _ort()
    if _dlls_preloaded or not hasattr(ort, "preload_dlls"):
        return _preload_error
    _dlls_preloaded = True
    try:
        ort.preload_dlls()
    except Exception as exc:  # a missing CUDA library only means CPU inference
        _preload_error = f"preloading the CUDA libraries failed: {exc}"
        log.info("CUDA libraries could not be preloaded: %s", exc)
    return _preload_error


def _cpu_reason(ep_output: str, preload_error: str | None) -> str:
    """Why a session that asked for CUDA runs on the CPU, from what onnxruntime printed while falling back."""
    lines = [line.strip() for line in ep_output.splitlines() if line.strip().startswith("EP Error")]
    detail = lines[0] if lines else preload_error
    reason = (
        "the CUDA execution provider did not start (no usable NVIDIA GPU and driver, or the CUDA 12 and cuDNN 9 "
        "libraries are missing: install them, e.g. the nvidia-*-cu12 wheels)"
    )
    return f"{reason}: {detail}" if detail else reason


def device_label(provider: str) -> str:
    return {CUDA: "CUDA (GPU)", CPU: "CPU"}.get(provider, provider.removesuffix("ExecutionProvider"))


class OnnxClassifier:
    """A model card plus its ONNX session.

    Args:
        model_dir: folder holding model.json and model.onnx.
        device: "auto" (CUDA when it loads, else CPU) or "cpu"; defaults to $EYEVSAI_DEVICE or "auto".
        card: an already-read card (skips reading and hashing it again).
        threads: the session's CPU thread pool (the game passes GAME_THREADS; the default is onnxruntime's).

    Raises:
        ModelCardError: missing/corrupt card or ONNX file, or a graph that does not match its card.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        device: str | None = None,
        card: ModelCard | None = None,
        threads: SessionThreads | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.card = card or read_card(self.model_dir)
        providers = preferred_providers(device)
        preload_error = _preload_cuda_dlls() if CUDA in providers else None
        self.session, ep_output = self._open_session(providers, threads or SessionThreads())
        self.requested_providers = providers
        self.provider: str = self.session.get_providers()[0]
        self.fallback_reason: str | None = None  # why an expected GPU is not used
        if self.fell_back_to_cpu:
            self.fallback_reason = _cpu_reason(ep_output, preload_error)
        elif CUDA not in providers and _device(device) != "cpu" and expects_gpu():
            available = ", ".join(_ort().get_available_providers())
            self.fallback_reason = (
                f"{GPU_BUILD} is installed but offers no CUDA execution provider "
                f"(available: {available}); another onnxruntime build may have overwritten it"
            )
        if self.fallback_reason:
            log.warning("Model '%s' runs on the CPU: %s", self.card.id, self.fallback_reason)
        self._input = self.session.get_inputs()[0]
        self._output = self._pick_output()
        self._features = FeatureParams.from_card(self.card.input.extractor) if self._is_features else None

    def _open_session(self, providers: list[str], threads: SessionThreads) -> tuple[Any, str]:
        """The onnxruntime session, and what onnxruntime printed while creating it (its "EP Error" fallback note)."""
        ort = _ort()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # CUDA load failures are reported through `fallback_reason`, not stderr spam
        if threads.intra_op is not None:
            options.intra_op_num_threads = threads.intra_op
        if threads.spinning is not None:
            options.add_session_config_entry("session.intra_op.allow_spinning", "1" if threads.spinning else "0")
        printed = io.StringIO()
        # onnxruntime prints (not logs) why a provider failed before retrying on the CPU: keep it as the reason.
        capture = contextlib.redirect_stdout(printed) if CUDA in providers else contextlib.nullcontext()
        try:
            with capture:
                session = ort.InferenceSession(str(self.model_dir / ONNX_FILE), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types for corrupt graphs
            raise ModelCardError(f"Model '{self.card.id}' could not be loaded by onnxruntime: {exc}") from exc
        return session, printed.getvalue()

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
            return extract_batch(list(images), self._features, resize=self.card.input.resize)
        spec = self.card.input
        return prepare_batch(list(images), spec.height, spec.width, spec.resize)

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
            "fallback_reason": self.fallback_reason,
        }
