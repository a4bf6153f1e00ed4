"""Shallow family: hand-crafted features → scaling / PCA / feature selection → SVM, RandomForest or LogReg.

The feature set follows the pack, decided at fit time and recorded in the card's extractor parameters: no colour
histogram when every training image is grey, Gabor at the pack's image size when that is below `feature_size`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.card import DEFAULT_RESIZE, InputSpec
from classifiers.errors import ConfigError
from classifiers.families.base import DeclaredEstimator, check_trainable
from classifiers.families.params import Hyperparams, Param, Tune
from classifiers.families.threads import THREADS, native_threads, resolve_threads
from classifiers.features import FeatureParams, extract, is_grey
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.registry import register_family

ONNX_OPSET = 17
_FEATURE_CHUNK = 64


VARIANTS = ("svm", "rf", "logreg")
HYPERPARAMS = Hyperparams(
    "shallow",
    VARIANTS,
    'the classifier: "svm" (RBF SVC, sigmoid-calibrated), "rf" (RandomForest) or "logreg" (LogisticRegression).',
    (
        Param(
            "feature_size",
            "int",
            64,
            "images are resized to this square size before feature extraction",
            low=16,
            high=256,
            is_main=True,
            tune=Tune(choices=(32, 48, 64)),
        ),
        Param(
            "pca_components",
            "int",
            None,
            "keep this many principal components (none: no PCA)",
            low=1,
            high=10_000,
            optional=True,
            is_main=True,
            tune=Tune(choices=(None, 64, 128, 256)),
        ),
        Param(
            "select_k",
            "int",
            None,
            "keep the k best features by ANOVA F (none: all); applied after PCA when both are set",
            low=1,
            high=100_000,
            optional=True,
        ),
        Param(
            "C",
            "float",
            1.0,
            "inverse regularisation (svm, logreg)",
            low=1e-4,
            high=1e4,
            log=True,
            is_main=True,
            variants=("svm", "logreg"),
            tune={"svm": Tune(0.1, 100.0, log=True), "logreg": Tune(1e-3, 10.0, log=True)},
        ),
        Param(
            "gamma",
            "float",
            "scale",
            'RBF kernel width (svm): "scale", "auto" or a number',
            low=0.0,
            words=("scale", "auto"),
            variants=("svm",),
            tune=Tune(choices=("scale", 1e-3, 3e-3, 1e-2)),
        ),
        Param(
            "n_estimators",
            "int",
            200,
            "trees in the forest (rf)",
            low=1,
            high=5000,
            is_main=True,
            variants=("rf",),
            tune=Tune(100, 500, step=50),
        ),
        Param(
            "max_depth",
            "int",
            16,
            "depth limit of each tree (rf; none: unlimited)",
            low=1,
            high=200,
            optional=True,
            is_main=True,
            variants=("rf",),
            tune=Tune(choices=(8, 12, 16, 24, None)),
        ),
        Param(
            "min_samples_leaf",
            "int",
            1,
            "fewest training images in a leaf (rf)",
            low=1,
            high=1000,
            variants=("rf",),
            tune=Tune(1, 4),
        ),
        Param("seed", "int", 0, "random seed for everything stochastic", low=0, high=2**31 - 1),
        THREADS,
    ),
)


@register_family(
    "shallow",
    title="Shallow: HOG/LBP/colour features + SVM, RandomForest or LogisticRegression",
    extra="shallow",
    requires=("sklearn", "skl2onnx", "onnx"),
    variants=VARIANTS,
)
class ShallowClassifier(DeclaredEstimator):
    """Features from `classifiers.features`, then a scikit-learn pipeline; hyperparameters: `HYPERPARAMS`."""

    HYPERPARAMS = HYPERPARAMS

    def _check_family(self) -> None:
        try:
            FeatureParams(size=self.feature_size)
        except ConfigError as exc:  # the extractor's own rule (a whole number of HOG cells)
            raise ConfigError(f"feature_size {self.feature_size} does not suit the features: {exc}") from None

    # -- training -------------------------------------------------------------------------------------------
    def _classifier(self) -> Any:
        from sklearn.calibration import CalibratedClassifierCV  # lazy: sklearn
        from sklearn.ensemble import RandomForestClassifier  # lazy: sklearn
        from sklearn.linear_model import LogisticRegression  # lazy: sklearn
        from sklearn.svm import SVC  # lazy: sklearn

        if self.variant == "svm":
            # SVC(probability=True) is deprecated in scikit-learn 1.9; sigmoid calibration converts exactly.
            # ensemble=False keeps one SVC (fit on all data) instead of one per fold: a third of the ONNX size.
            return CalibratedClassifierCV(
                SVC(C=self.C, gamma=self.gamma, random_state=self.seed), method="sigmoid", cv=3, ensemble=False
            )
        if self.variant == "rf":
            return RandomForestClassifier(
                n_estimators=self.n_estimators,
                max_depth=self.max_depth,
                min_samples_leaf=self.min_samples_leaf,
                random_state=self.seed,
                n_jobs=resolve_threads(self.threads),
            )
        return LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed)

    def _pipeline(self, n_samples: int, n_features: int) -> Any:
        from sklearn.decomposition import PCA  # lazy: sklearn
        from sklearn.feature_selection import SelectKBest, f_classif  # lazy: sklearn
        from sklearn.pipeline import Pipeline  # lazy: sklearn
        from sklearn.preprocessing import StandardScaler  # lazy: sklearn

        steps: list[tuple[str, Any]] = [("scale", StandardScaler())]
        width = n_features
        if self.pca_components:
            width = min(self.pca_components, n_samples, n_features)
            steps.append(("pca", PCA(n_components=width, random_state=self.seed)))
        if self.select_k and self.select_k < width:
            steps.append(("select", SelectKBest(f_classif, k=self.select_k)))
        steps.append(("clf", self._classifier()))
        return Pipeline(steps)

    def _feature_params(self) -> FeatureParams:
        """The extractor's parameters: the feature size and, once fitted, what the pack's images call for."""
        colour = getattr(self, "colour_", True)
        return FeatureParams(size=self.feature_size, colour=colour, gabor_size=getattr(self, "gabor_size_", None))

    def _fit_feature_set(self, pack: Pack, shas: list[str]) -> None:
        """Grey pack: every training image grey (the scan stops at the first colour one); Gabor at the pack's
        image size when upscaling to `feature_size` would only interpolate."""
        self.colour_ = not all(is_grey(pack.load_image(sha)) for sha in shas)
        native = max(pack.image_size) if pack.image_size else None
        self.gabor_size_ = native if native is not None and native < self.feature_size else None

    def _features(self, pack: Pack, shas: list[str], stage: str) -> Iterator[Progress | np.ndarray]:
        params = self._feature_params()
        rows = []
        for start in range(0, len(shas), _FEATURE_CHUNK):
            chunk = shas[start : start + _FEATURE_CHUNK]
            rows.extend(extract(pack.load_image(sha), params) for sha in chunk)
            yield Progress(stage, start + len(chunk), len(shas), f"{stage}: {start + len(chunk)}/{len(shas)} images")
        yield np.stack(rows)

    def fit(self, pack: Pack) -> Iterator[Progress]:
        """Extract features of the train split and fit the pipeline."""
        self.check_params()
        check_trainable(pack)
        shas, labels = pack.labelled("train")
        features = None
        with native_threads(self.threads) as threads:
            self._fit_feature_set(pack, shas)
            for item in self._features(pack, shas, "features"):
                if isinstance(item, Progress):
                    yield item
                else:
                    features = item
            assert features is not None
            shape = f"{features.shape[0]}×{features.shape[1]}"
            yield Progress("fit", 0, 1, f"fitting {self.variant} on {shape} features")
            self.pipeline_ = self._pipeline(*features.shape).fit(features, labels)
        self.training_info_ = {"threads": threads}
        self.classes_ = list(pack.classes)
        self.n_features_ = int(features.shape[1])
        yield Progress("fit", 1, 1, "fitted")

    # -- inference and export -------------------------------------------------------------------------------
    def predict_proba(self, images: Sequence[np.ndarray]) -> np.ndarray:
        params = self._feature_params()
        features = np.stack([extract(image, params) for image in images])
        return self._full_proba(features)

    def _full_proba(self, features: np.ndarray) -> np.ndarray:
        """Probabilities over all pack classes, even if a class was absent from training (column of zeros)."""
        probs = self.pipeline_.predict_proba(features)
        out = np.zeros((len(features), len(self.classes_)), np.float64)
        out[:, self.pipeline_.classes_] = probs
        return out

    def input_spec(self) -> InputSpec:
        extractor = self._feature_params().to_card()
        return InputSpec(
            kind="features",
            height=self.feature_size,
            width=self.feature_size,
            extractor=extractor,
            resize=DEFAULT_RESIZE,
        )

    def export_onnx(self, path: Path) -> int:
        from skl2onnx import convert_sklearn  # lazy: skl2onnx
        from skl2onnx.common.data_types import FloatTensorType  # lazy: skl2onnx

        if len(self.pipeline_.classes_) != len(self.classes_):
            raise ConfigError("Every class needs training images before export; rebuild the pack.")
        clf = self.pipeline_.named_steps["clf"]
        with warnings.catch_warnings():
            # skl2onnx reads SVC.probA_/probB_, which scikit-learn 1.9 flags as deprecated.
            warnings.simplefilter("ignore", FutureWarning)
            onnx_model = convert_sklearn(
                self.pipeline_,
                initial_types=[("features", FloatTensorType([None, self.n_features_]))],
                options={id(clf): {"zipmap": False}},
                target_opset={"": ONNX_OPSET, "ai.onnx.ml": 3},
            )
        Path(path).write_bytes(onnx_model.SerializeToString())
        return ONNX_OPSET
