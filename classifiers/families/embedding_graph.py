"""The embedding family's ONNX half: the cached feature graph, embeddings through onnxruntime, the final graph.

The feature graph (uint8 NHWC images → ImageNet EfficientNet-Lite0 → global average pooling → 1,280 floats) is
converted once per input size with the transfer family's Keras backbone and tf2onnx, and cached beside the
converted weights; later fits need neither TensorFlow nor PyTorch. Training images are embedded through
onnxruntime, the very graph that is exported, and each image's embedding is cached by its content hash. The
exported model is that graph with the linear head appended (Gemm + Softmax), so it runs in the game like any
other image model. Imports only NumPy at module level; onnx and onnxruntime load inside the functions.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.errors import ConfigError
from classifiers.families.transfer_spec import LITE0_CACHE_FILE, default_cache_dir
from classifiers.pack import Pack
from classifiers.preprocess import prepare_batch
from classifiers.progress import Progress

BACKBONE = "efficientnet_lite0"
FEATURES_OUTPUT = "features"
ONNX_OPSET = 17  # tf2onnx writes the feature graph at this opset; the head's Gemm and Softmax exist in it
_BATCH = 32


def cache_folder(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir) if cache_dir else default_cache_dir()


def feature_graph_path(cache_dir: str | Path | None, size: int) -> Path:
    """Where the feature graph for size×size inputs is cached (named after the converted weights it holds)."""
    return cache_folder(cache_dir) / f"{Path(LITE0_CACHE_FILE).stem}-features-{size}.onnx"


def ensure_feature_graph(cache_dir: str | Path | None, size: int) -> Generator[Progress, None, Path]:
    """The cached feature graph for size×size inputs, converting it first when it is not there (TensorFlow,
    tf2onnx, and PyTorch to read the packaged weights the very first time).

    Raises:
        ConfigError: the weights or the converters are missing (the message says what to install).
    """
    path = feature_graph_path(cache_dir, size)
    if path.is_file():
        return path
    yield Progress("prepare", 0, 1, f"converting ImageNet {BACKBONE} at {size} px to ONNX (once; cached)")
    try:
        import keras  # lazy: keras/tensorflow, only to convert the backbone once

        from classifiers.families.transfer_keras import export_onnx  # lazy: tensorflow
        from classifiers.families.transfer_weights import build_backbone  # lazy: keras
    except ImportError as exc:
        raise ConfigError(
            f"Converting the pretrained backbone once needs TensorFlow and tf2onnx ({exc.name} is missing): "
            "pip install 'eyevsai[tensorflow]'."
        ) from None
    backbone, _info = build_backbone(BACKBONE, size, "imagenet", cache_folder(cache_dir))
    inputs = keras.Input((size, size, 3), dtype="uint8", name="images")
    pixels = keras.ops.cast(inputs, "float32")
    pooled = keras.layers.GlobalAveragePooling2D(name=FEATURES_OUTPUT)(backbone(pixels, training=False))
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(keras.Model(inputs, pooled, name=f"{BACKBONE}_features"), size, tmp)
    os.replace(tmp, path)  # a converter killed half-way leaves no truncated graph behind
    yield Progress("prepare", 1, 1, f"cached the feature graph at {path}")
    return path


class Embedder:
    """Embeddings of RGB uint8 images through the feature graph, cached per image content hash."""

    def __init__(self, graph: Path, size: int, cache_dir: str | Path | None, *, threads: int = 0) -> None:
        """`threads`: onnxruntime's intra-op threads (0: its default)."""
        import onnxruntime  # lazy: onnxruntime

        self.size = size
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # no busy-waiting between batches: on a shared machine the spinning threads slowed embedding by a third
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.store = cache_folder(cache_dir) / "embeddings" / graph.stem

    def embed(self, images: Sequence[np.ndarray], *, mirrored: bool = False) -> np.ndarray:
        """(N, dim) float32 embeddings of images of any size (resized like the game; `mirrored`: flipped
        left-right after resizing)."""
        rows = []
        for start in range(0, len(images), _BATCH):
            batch = prepare_batch(list(images[start : start + _BATCH]), self.size, self.size)
            if mirrored:
                batch = np.ascontiguousarray(batch[:, :, ::-1])
            rows.append(self.session.run(None, {self.input_name: batch})[0])
        return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, self.dim), np.float32)

    def embed_pack(
        self, pack: Pack, shas: Sequence[str], *, mirrored: bool, stage: str
    ) -> Generator[Progress, None, np.ndarray]:
        """Embeddings of pack images by content hash, read from the cache where an earlier fit stored them."""
        suffix = "-mirrored" if mirrored else ""
        paths = [self.store / f"{sha}{suffix}.npy" for sha in shas]
        out = np.zeros((len(shas), self.dim), np.float32)
        missing = []
        for i, path in enumerate(paths):
            row = _read_row(path, self.dim)
            if row is None:
                missing.append(i)
            else:
                out[i] = row
        if missing:
            self.store.mkdir(parents=True, exist_ok=True)
        done = len(shas) - len(missing)
        for start in range(0, len(missing), _BATCH):
            chunk = missing[start : start + _BATCH]
            out[chunk] = self.embed([pack.load_image(shas[i]) for i in chunk], mirrored=mirrored)
            for i in chunk:
                np.save(paths[i], out[i])
            done += len(chunk)
            yield Progress(stage, done, len(shas), f"{stage}: {done}/{len(shas)} images")
        return out


def _read_row(path: Path, dim: int) -> np.ndarray | None:
    """A cached embedding, or None when there is none (or it is unreadable: it is then computed again)."""
    try:
        row = np.load(path)
    except (OSError, ValueError):
        return None
    return row if row.shape == (dim,) else None


def head_probabilities(features: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Softmax(features · weight + bias) in float64: the head as the exported graph computes it."""
    logits = features.astype(np.float64) @ weight.astype(np.float64) + bias.astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def export_with_head(graph: Path, weight: np.ndarray, bias: np.ndarray, path: Path) -> int:
    """Write the feature graph with the head appended: "images" → Gemm(weight, bias) → Softmax →
    "probabilities" (batch, C). Returns the opset."""
    import onnx  # lazy: onnx
    from onnx import TensorProto, helper, numpy_helper  # lazy: onnx

    model = onnx.load(str(graph))
    features = model.graph.output[0].name
    model.graph.initializer.extend(
        [
            numpy_helper.from_array(weight.astype(np.float32), "head_weight"),
            numpy_helper.from_array(bias.astype(np.float32), "head_bias"),
        ]
    )
    model.graph.node.extend(
        [
            helper.make_node("Gemm", [features, "head_weight", "head_bias"], ["logits"], name="head"),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1, name="softmax"),
        ]
    )
    del model.graph.output[:]
    model.graph.output.append(
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", int(weight.shape[1])])
    )
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return _opset(model)


def _opset(model: Any) -> int:
    return next((int(entry.version) for entry in model.opset_import if entry.domain in ("", "ai.onnx")), ONNX_OPSET)
