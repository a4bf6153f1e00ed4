"""The transfer family's TensorFlow half: the tf.data pipeline, the model, two-phase training and ONNX export.

Imports TensorFlow at module level (quietly); `transfer` imports this module inside its methods only, so listing
families never loads TensorFlow.

Training runs as a generator of Progress events: phase "frozen" trains the new head on a frozen backbone, phase
"fine-tune" then unfreezes the top `fine_tune_layers` backbone layers (batch norms stay frozen and in inference
mode, as in Keras' transfer-learning guide) at a lower learning rate. With `weights="none"` nothing is pretrained:
one phase, "scratch", trains every layer, batch norms included. Early stopping watches the validation loss across
both phases and the best epoch's weights are restored at the end.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: no C++ info/warning chatter

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from classifiers.errors import ConfigError  # noqa: E402
from classifiers.families.transfer_backbones import parameter_count, truncate  # noqa: E402
from classifiers.families.transfer_weights import WeightsInfo, build_backbone  # noqa: E402
from classifiers.pack import Pack  # noqa: E402
from classifiers.preprocess import decode_image, prepare_batch, resize_rgb  # noqa: E402
from classifiers.progress import Progress  # noqa: E402

tf.get_logger().setLevel(logging.ERROR)
ONNX_OPSET = 17
_PREDICT_BATCH = 256
_STEP_EVENTS_PER_EPOCH = 20


@dataclass(frozen=True)
class TransferConfig:
    """Everything `fit_transfer` needs (see `transfer.TransferClassifier` for the meaning of each field)."""

    backbone: str
    weights: str
    image_size: int
    freeze_epochs: int
    fine_tune_epochs: int
    fine_tune_layers: int
    batch_size: int
    lr: float
    fine_tune_lr: float
    weight_decay: float
    dropout: float
    patience: int
    augment: bool
    class_weight: str
    feature_layer: str | None
    mixed_precision: bool
    xla: bool
    seed: int
    cache_dir: str | None


@dataclass
class FitResult:
    model: keras.Model  # float32, ready for predict and export
    info: dict[str, Any]


# -- data -------------------------------------------------------------------------------------------------------
def pack_dataset(
    pack: Pack, split: str, size: int, *, batch_size: int, shuffle: bool, augment: bool, seed: int
) -> tuple[tf.data.Dataset, int]:
    """A batched (uint8 images, int labels) dataset of one split and its image count.

    Decoding and resizing use `classifiers.preprocess` (the game's own code) inside `tf.numpy_function`; decoded
    images are cached in memory after the first epoch; augmentation runs on batches after the cache.
    """
    shas, labels = pack.labelled(split)
    paths = [str(pack.image_path(sha)) for sha in shas]

    def load(path: bytes) -> np.ndarray:
        name = path.decode()
        return resize_rgb(decode_image(Path(name).read_bytes(), name=name), size, size)

    def load_tensor(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = tf.numpy_function(load, [path], tf.uint8, stateful=False)
        return tf.ensure_shape(image, (size, size, 3)), label

    data = tf.data.Dataset.from_tensor_slices((paths, labels.astype(np.int32)))
    data = data.map(load_tensor, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle:
        data = data.shuffle(max(1, len(paths)), seed=seed, reshuffle_each_iteration=True)
    # Whole training batches only: a last, smaller batch would retrace the (large) training graph every phase.
    data = data.batch(batch_size, drop_remainder=shuffle and len(paths) >= batch_size)
    if augment:
        augmenter = keras.Sequential(
            [
                keras.layers.RandomFlip("horizontal", seed=seed),
                keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed + 1),
                keras.layers.RandomZoom((-0.1, 0.1), fill_mode="constant", seed=seed + 2),
            ],
            name="augment",
        )

        def augment_batch(images: tf.Tensor, batch_labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            moved = augmenter(tf.cast(images, tf.float32), training=True)
            return tf.cast(tf.clip_by_value(tf.round(moved), 0, 255), tf.uint8), batch_labels

        data = data.map(augment_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return data.prefetch(tf.data.AUTOTUNE), len(paths)


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """n / (k · count_c): every class contributes equally to the loss, whatever its size."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    return {c: float(len(labels) / (n_classes * counts[c])) if counts[c] else 0.0 for c in range(n_classes)}


# -- the model --------------------------------------------------------------------------------------------------
def gpu_available() -> bool:
    return bool(tf.config.list_physical_devices("GPU"))


def build_model(
    config: TransferConfig, n_classes: int, *, weights: str | None = None, policy: str = "float32"
) -> tuple[keras.Model, keras.Model, WeightsInfo]:
    """(classifier, its backbone, the weights used): uint8 NHWC images → softmax probabilities.

    `weights` overrides config.weights ("none" builds a skeleton to copy trained weights into).
    """
    weights = weights or config.weights
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        backbone, info = build_backbone(config.backbone, config.image_size, weights, config.cache_dir)
        if config.feature_layer:
            try:
                backbone = truncate(backbone, config.feature_layer)
            except ValueError:
                adds = [layer.name for layer in backbone.layers if layer.name.endswith(("_add", "_out"))][-6:]
                raise ConfigError(
                    f"Backbone {config.backbone} has no layer {config.feature_layer!r}; choose a "
                    f"layer name such as {', '.join(adds) or backbone.layers[-1].name}."
                ) from None
        size = config.image_size
        inputs = keras.Input((size, size, 3), dtype="uint8", name="images")
        pixels = keras.layers.Identity(dtype="float32", name="to_float")(keras.ops.cast(inputs, "float32"))
        # A pretrained backbone stays in inference mode (frozen batch-norm statistics) even while fine-tuned.
        features = backbone(pixels, training=False) if config.weights != "none" else backbone(pixels)
        x = keras.layers.GlobalAveragePooling2D(name="pool")(features)
        x = keras.layers.Dropout(config.dropout, name="head_dropout")(x)
        x = keras.layers.Dense(n_classes, name="logits")(x)
        outputs = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(x)
        return keras.Model(inputs, outputs, name=f"transfer_{config.backbone}"), backbone, info
    finally:
        keras.mixed_precision.set_global_policy(previous)


def inference_function(model: keras.Model, size: int) -> Any:
    """A graph-compiled forward pass traced once for any batch size (validation and predict_proba share it)."""
    signature = [tf.TensorSpec((None, size, size, 3), tf.uint8)]
    return tf.function(lambda images: model(images, training=False), input_signature=signature, reduce_retracing=True)


def evaluate(infer: Any, data: tf.data.Dataset) -> dict[str, float]:
    """Unweighted cross-entropy and accuracy of a dataset, from the shared inference function."""
    losses, hits, count = 0.0, 0, 0
    for images, labels in data:
        probabilities = np.asarray(infer(images), dtype=np.float64)
        truth = labels.numpy()
        losses += float(-np.log(np.clip(probabilities[np.arange(len(truth)), truth], 1e-12, 1.0)).sum())
        hits += int((probabilities.argmax(1) == truth).sum())
        count += len(truth)
    return {"loss": losses / max(count, 1), "accuracy": hits / max(count, 1)}


def set_trainable(backbone: keras.Model, fine_tune_layers: int | None) -> int:
    """Make the top `fine_tune_layers` weighted layers of the backbone trainable and freeze the rest; batch norms
    stay frozen (they are not counted). None: every layer trains, batch norms included (training from scratch).

    Returns:
        The number of backbone layers that now train.
    """
    backbone.trainable = True  # resets every nested layer's flag; the loop below decides each one
    if fine_tune_layers is None:
        return sum(1 for layer in backbone.layers if layer.weights)
    weighted = [
        layer for layer in backbone.layers if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)
    ]
    chosen = {id(layer) for layer in weighted[len(weighted) - fine_tune_layers :]} if fine_tune_layers else set()
    for layer in backbone.layers:
        layer.trainable = id(layer) in chosen
    return len(chosen)


# -- training ---------------------------------------------------------------------------------------------------
@dataclass
class _Best:
    loss: float = float("inf")
    weights: list[np.ndarray] | None = None
    phase: str = ""
    epoch: int = 0
    waited: int = 0


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 2**20 if sys.platform == "darwin" else peak / 2**10, 1)


def _run_phase(
    model: keras.Model,
    phase: str,
    epochs: int,
    lr: float,
    config: TransferConfig,
    data: dict[str, Any],
    best: _Best,
    jit: bool,
) -> Generator[Progress, None, dict[str, Any]]:
    """Train `epochs` epochs (fewer when early stopping fires); updates `best`; returns the phase's record."""
    model.compile(
        optimizer=keras.optimizers.AdamW(lr, weight_decay=config.weight_decay),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit,
    )
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    record: dict[str, Any] = {"lr": lr, "trainable_parameters": trainable, "epochs_run": 0, "history": []}
    batches = max(1, data["n_train"] // config.batch_size)
    every = max(1, batches // _STEP_EVENTS_PER_EPOCH)
    speeds = []
    for epoch in range(1, epochs + 1):
        started, seen, loss_sum, hit_sum = time.perf_counter(), 0, 0.0, 0.0
        for step, (images, labels) in enumerate(data["train"], start=1):
            # train_on_batch reports this batch alone: the epoch's figures are image-weighted means of them
            logs = model.train_on_batch(images, labels, class_weight=data["class_weight"], return_dict=True)
            size = int(labels.shape[0])
            seen += size
            loss_sum += float(logs["loss"]) * size
            hit_sum += float(logs["accuracy"]) * size
            if step % every == 0 or step == batches:
                yield Progress(
                    "step",
                    step,
                    batches,
                    f"{phase} epoch {epoch}: loss {loss_sum / seen:.3f}",
                    {"loss": loss_sum / seen},
                )
        speeds.append(seen / max(time.perf_counter() - started, 1e-9))
        metrics = {
            "loss": round(loss_sum / max(seen, 1), 4),
            "accuracy": round(hit_sum / max(seen, 1), 4),
            "images_per_s": round(speeds[-1], 1),
            "peak_rss_mb": _peak_rss_mb(),
        }
        if data["val"] is not None:
            val = evaluate(data["infer"], data["val"])
            metrics.update(val_loss=round(float(val["loss"]), 4), val_accuracy=round(float(val["accuracy"]), 4))
        record["history"].append(metrics)
        record["epochs_run"] = epoch
        watched = metrics.get("val_loss", metrics["loss"])
        if watched < best.loss:
            best.loss, best.weights, best.phase, best.epoch, best.waited = watched, model.get_weights(), phase, epoch, 0
        else:
            best.waited += 1
        summary = ", ".join(f"{key} {value:g}" for key, value in metrics.items() if key != "peak_rss_mb")
        yield Progress("epoch", epoch, epochs, f"{phase} epoch {epoch}/{epochs}: {summary}", metrics)
        if config.patience and best.waited >= config.patience:
            record["stopped_early"] = True
            break
    record["images_per_s"] = round(float(np.median(speeds)), 1) if speeds else 0.0
    if record["history"] and "val_accuracy" in record["history"][-1]:
        record["best_val_accuracy"] = max(h["val_accuracy"] for h in record["history"])
    return record


def fit_transfer(config: TransferConfig, pack: Pack) -> Generator[Progress, None, FitResult]:
    """Train a transfer model on the pack's train split, early-stopping on its val split."""
    keras.utils.set_random_seed(config.seed)
    on_gpu = gpu_available()
    mixed = config.mixed_precision and on_gpu
    jit = config.xla and on_gpu
    n_classes = len(pack.classes)
    yield Progress("prepare", 0, 1, f"building {config.backbone} with {config.weights} weights")
    model, backbone, weights_info = build_model(config, n_classes, policy="mixed_float16" if mixed else "float32")
    train, n_train = pack_dataset(
        pack,
        "train",
        config.image_size,
        batch_size=config.batch_size,
        shuffle=True,
        augment=config.augment,
        seed=config.seed,
    )
    val = None
    if pack.splits["val"]:
        val, _ = pack_dataset(
            pack,
            "val",
            config.image_size,
            batch_size=max(config.batch_size, 64),
            shuffle=False,
            augment=False,
            seed=config.seed,
        )
    _, train_labels = pack.labelled("train")
    data = {
        "train": train,
        "val": val,
        "n_train": n_train,
        "infer": inference_function(model, config.image_size),
        "class_weight": balanced_class_weights(train_labels, n_classes) if config.class_weight == "balanced" else None,
    }
    yield Progress(
        "prepare",
        1,
        1,
        f"{parameter_count(model):,} parameters on {'GPU' if on_gpu else 'CPU'}; weights: {weights_info.source}",
    )
    best = _Best()
    phases: dict[str, Any] = {}
    if config.weights == "none":
        set_trainable(backbone, None)
        phases["scratch"] = yield from _run_phase(
            model, "scratch", config.freeze_epochs + config.fine_tune_epochs, config.lr, config, data, best, jit
        )
    else:
        set_trainable(backbone, 0)
        if config.freeze_epochs:
            phases["frozen"] = yield from _run_phase(
                model, "frozen", config.freeze_epochs, config.lr, config, data, best, jit
            )
        stopped = phases.get("frozen", {}).get("stopped_early", False)
        if config.fine_tune_epochs and config.fine_tune_layers and not stopped:
            if best.weights is not None:
                model.set_weights(best.weights)  # fine-tune from the best frozen-phase epoch
            unfrozen = set_trainable(backbone, config.fine_tune_layers)
            best.waited = 0
            phases["fine-tune"] = yield from _run_phase(
                model, "fine-tune", config.fine_tune_epochs, config.fine_tune_lr, config, data, best, jit
            )
            phases["fine-tune"]["unfrozen_layers"] = unfrozen
    if best.weights is not None:
        model.set_weights(best.weights)
    if mixed:  # export and parity run on a float32 twin holding the same (float32 master) weights
        twin, _, _ = build_model(config, n_classes, weights="none")
        twin.set_weights(model.get_weights())
        model = twin
    speeds = [p["images_per_s"] for p in phases.values() if p.get("images_per_s")]
    info = {
        "image_size": config.image_size,
        "backbone_weights": weights_info.as_dict(),
        "phases": phases,
        "best_phase": best.phase,
        "best_epoch": best.epoch,
        "parameters": parameter_count(model),
        "device": "gpu" if on_gpu else "cpu",
        "mixed_precision": mixed,
        "xla": jit,
        "images_per_s": speeds[0] if speeds else 0.0,
        "peak_rss_mb": _peak_rss_mb(),
    }
    return FitResult(model, info)


# -- inference and export ---------------------------------------------------------------------------------------
def predict_proba(infer: Any, images: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Keras probabilities (N, C) for RGB uint8 images of any size (resized like the game), through the model's
    `inference_function`."""
    batch = prepare_batch(list(images), size, size)
    outputs = [
        np.asarray(infer(tf.constant(batch[start : start + _PREDICT_BATCH])))
        for start in range(0, len(batch), _PREDICT_BATCH)
    ]
    return np.concatenate(outputs).astype(np.float64)


def export_onnx(model: keras.Model, size: int, path: str | Path) -> int:
    """Write the ONNX graph through tf2onnx: input "images" uint8 (batch, size, size, 3), output
    "probabilities" (batch, C). Returns the opset."""
    import tf2onnx  # lazy: tf2onnx

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    signature = [tf.TensorSpec((None, size, size, 3), tf.uint8, name="images")]
    tf2onnx.convert.from_keras(model, input_signature=signature, opset=ONNX_OPSET, output_path=str(path))
    return ONNX_OPSET
