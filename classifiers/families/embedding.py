"""embedding: frozen pretrained image embeddings with a linear head: the small-data path, trained in seconds.

Every image goes through ImageNet EfficientNet-Lite0 (the weights the project ships offline) to a 1,280-number
embedding; a multinomial logistic regression on the standardised embeddings (scikit-learn, L2-regularised, its
strength chosen on the val split unless given) learns the classes. The exported ONNX graph is the feature graph
with the head appended, from uint8 images to softmax probabilities like every image family. A handful of
images per class is enough where a network trained from scratch stays at chance. Importing this module imports no
framework: onnx, onnxruntime (in `embedding_graph`) and scikit-learn load when they are used.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

import numpy as np

from classifiers.card import DEFAULT_RESIZE, InputSpec
from classifiers.families import embedding_graph as graphs
from classifiers.families.base import DeclaredEstimator, check_trainable
from classifiers.families.params import Hyperparams, Param, Tune
from classifiers.families.threads import THREADS, native_threads, resolve_threads
from classifiers.pack import Pack
from classifiers.progress import Progress, run_to_end
from classifiers.registry import register_family

DEFAULT_IMAGE_SIZE = 160  # half the work of the backbone's own 224 px; on the shapes pack as accurate (97.8-100 %)
C_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)
C_WITHOUT_VAL = 0.1  # no val split to choose on: a middle of the grid
SMALL_PACK_PER_CLASS = 200  # below this many training images per class, the front ends suggest this family
SMALL_PACK_FAMILIES = ("deep_v1", "deep_v2", "shallow")  # families trained from scratch: the hint is for them

HYPERPARAMS = Hyperparams(
    "embedding",
    ("efficientnet_lite0",),
    "the frozen pretrained backbone; efficientnet_lite0's ImageNet weights work offline.",
    (
        Param(
            "image_size",
            "int",
            DEFAULT_IMAGE_SIZE,
            "square input side in pixels; images are resized to it (224: the backbone's own size, twice the work)",
            low=32,
            high=512,
            is_main=True,
            tune=Tune(choices=(128, 160, 224)),
        ),
        Param(
            "C",
            "float",
            None,
            "inverse L2 strength of the logistic regression on standardised embeddings; none: the value of "
            "0.001 … 10 with the lowest validation loss",
            low=1e-5,
            high=1e4,
            optional=True,
            log=True,
            is_main=True,
            tune=Tune(1e-3, 10.0, log=True),
        ),
        Param(
            "flip",
            "bool",
            True,
            "also learn from left-right mirrored copies of the training images",
            is_main=True,
            tune=Tune(choices=(True, False)),
        ),
        Param(
            "cache_dir",
            "text",
            None,
            "where the converted backbone and the image embeddings are cached (none: the user cache folder; the "
            "CLI: the workspace's)",
            optional=True,
            in_cli=False,
        ),
        THREADS,
    ),
)


@register_family(
    "embedding",
    title="Embedding: frozen pretrained EfficientNet-Lite0 features + logistic regression (small packs, seconds)",
    extra="tensorflow",
    requires=("sklearn", "onnx", "onnxruntime", "tensorflow", "tf2onnx"),
    variants=HYPERPARAMS.variants,
)
class EmbeddingClassifier(DeclaredEstimator):
    """Frozen backbone embeddings → standardise → multinomial logistic regression; hyperparameters: `HYPERPARAMS`.

    Learned state: `weight_` (dim, C) and `bias_` (C,) of the head on raw embeddings (the standardisation folded
    in), `image_size_`, `classes_`, `training_info_`.
    """

    family = "embedding"
    HYPERPARAMS = HYPERPARAMS

    def fit(self, pack: Pack) -> Iterator[Progress]:
        """Embed the train (and val) images, choose C on val when not given, fit the head; yields Progress."""
        self.check_params()
        check_trainable(pack)
        started = time.perf_counter()
        graph = yield from graphs.ensure_feature_graph(self.cache_dir, self.image_size)
        self._embedder = graphs.Embedder(graph, self.image_size, self.cache_dir, threads=resolve_threads(self.threads))
        train, labels = yield from self._embed_split(pack, "train", mirrored=False)
        if self.flip:
            mirrored, _ = yield from self._embed_split(pack, "train", mirrored=True)
            train, labels = np.vstack([train, mirrored]), np.concatenate([labels, labels])
        val, val_labels = yield from self._embed_split(pack, "val", mirrored=False)
        embedded = time.perf_counter()
        yield Progress("fit", 0, 1, f"fitting the head on {train.shape[0]}×{train.shape[1]} embeddings")
        with native_threads(self.threads):  # the head's BLAS
            C, search = self._choose_C(train, labels, val, val_labels, len(pack.classes))
            self.weight_, self.bias_ = _fit_head(train, labels, C, len(pack.classes))
        self.image_size_ = self.image_size
        self.classes_ = list(pack.classes)
        self.training_info_ = {
            "image_size": self.image_size,
            "backbone": graphs.BACKBONE,
            "embedding_dim": int(train.shape[1]),
            "train_embeddings": int(train.shape[0]),
            "C": C,
            **({"C_search": search} if search else {}),
            **_val_metrics(self.weight_, self.bias_, val, val_labels),
            "embed_seconds": round(embedded - started, 2),
            "fit_seconds": round(time.perf_counter() - embedded, 2),
        }
        yield Progress("fit", 1, 1, f"fitted with C {C:g}")

    def _embed_split(
        self, pack: Pack, split: str, *, mirrored: bool
    ) -> Generator[Progress, None, tuple[np.ndarray, np.ndarray]]:
        shas, labels = pack.labelled(split)
        stage = f"embedding {split}" + (" (mirrored)" if mirrored else "")
        features = yield from self._embedder.embed_pack(pack, shas, mirrored=mirrored, stage=stage)
        return features, labels

    def _choose_C(
        self, train: np.ndarray, labels: np.ndarray, val: np.ndarray, val_labels: np.ndarray, n_classes: int
    ) -> tuple[float, dict[str, float]]:
        """The given C, or the grid value with the lowest val log-loss (the smaller C on a tie: more L2)."""
        if self.C is not None:
            return float(self.C), {}
        if not len(val_labels):
            return C_WITHOUT_VAL, {}
        search = {}
        for C in C_GRID:
            weight, bias = _fit_head(train, labels, C, n_classes)
            search[f"{C:g}"] = _val_metrics(weight, bias, val, val_labels)["val_loss"]
        best = min(search, key=lambda key: (search[key], float(key)))
        return float(best), search

    # -- inference and export -----------------------------------------------------------------------------------
    def predict_proba(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities (N, C): embeddings from onnxruntime, the head in NumPy (float64)."""
        embedder = getattr(self, "_embedder", None)
        if embedder is None or embedder.size != self.image_size_:
            graph = feature_graph(self.cache_dir, self.image_size_)
            self._embedder = embedder = graphs.Embedder(graph, self.image_size_, self.cache_dir)
        return graphs.head_probabilities(embedder.embed(images), self.weight_, self.bias_)

    def input_spec(self) -> InputSpec:
        size = getattr(self, "image_size_", None) or self.image_size
        return InputSpec(kind="image", height=size, width=size, resize=DEFAULT_RESIZE)

    def export_onnx(self, path: Path) -> int:
        graph = feature_graph(self.cache_dir, self.image_size_)
        return graphs.export_with_head(graph, self.weight_, self.bias_, Path(path))


def feature_graph(cache_dir: str | None, size: int) -> Path:
    """The cached feature graph, converting it when it went missing since `fit`."""
    return run_to_end(graphs.ensure_feature_graph(cache_dir, size))


def _fit_head(train: np.ndarray, labels: np.ndarray, C: float, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A multinomial logistic regression on standardised embeddings, as (weight, bias) on raw embeddings."""
    from sklearn.exceptions import ConvergenceWarning  # lazy: sklearn
    from sklearn.linear_model import LogisticRegression  # lazy: sklearn
    from threadpoolctl import threadpool_limits  # lazy: a scikit-learn dependency

    mean = train.mean(axis=0, dtype=np.float64)
    std = train.std(axis=0, dtype=np.float64)
    std[std < 1e-6] = 1.0  # a constant feature carries nothing; do not blow it up
    # One BLAS thread: on two busy cores the default pool made one fit 25x slower (1.5-6 s against 0.06 s).
    with warnings.catch_warnings(), threadpool_limits(1):
        # lbfgs stopping a little short of the optimum changes nothing a player would see
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=C, max_iter=2000).fit((train - mean) / std, labels)
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # two classes: one logit z for the second; softmax over (-z/2, z/2) is sigmoid(z)
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
    weight = np.zeros((train.shape[1], n_classes))
    bias = np.zeros(n_classes)
    # a class absent from training (check_trainable prevents it) would keep a zero column
    weight[:, model.classes_] = (coef / std).T
    bias[model.classes_] = intercept - (coef / std) @ mean
    return weight, bias


def _val_metrics(weight: np.ndarray, bias: np.ndarray, val: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    if not len(labels):
        return {}
    probs = graphs.head_probabilities(val, weight, bias)
    loss = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0)).mean())
    return {"val_loss": round(loss, 6), "val_accuracy": round(float((probs.argmax(1) == labels).mean()), 6)}


def small_pack_images_per_class(pack: Pack) -> int | None:
    """The training images of the pack's smallest class when some class has fewer than SMALL_PACK_PER_CLASS, too
    few to train a network from scratch well; None for a larger pack (or one without training images).

    The front ends suggest this family for such a pack (`eyevsai-train train embedding`, the GUI's train page).
    """
    counts = Counter(entry.label for entry in pack.splits["train"])
    smallest = min((counts.get(name, 0) for name in pack.classes), default=0)
    return smallest if 0 < smallest < SMALL_PACK_PER_CLASS else None
