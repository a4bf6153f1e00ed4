"""Model cards: the JSON file `model.json` that travels with every ONNX model (docs/design.md §3)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlsplit

from classifiers.errors import ModelCardError
from game_rules.scoring import DIFFICULTIES

CARD_FILE = "model.json"
ONNX_FILE = "model.onnx"


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# The resize's interpolations by name (what each means, in OpenCV's and Pillow's terms: docs/design.md §3).
RESIZE_INTERPOLATIONS = ("area", "bilinear", "nearest", "bicubic")
RESIZE_CROPS = ("none", "center")


@dataclass(frozen=True)
class ResizeSpec:
    """How the one resize (classifiers.preprocess) brings a decoded RGB image to the input size, so that another
    library can reproduce the AI's input: `shrink` when the image is at least as large as the input in both
    dimensions, else `enlarge`; `crop` "none" stretches the whole image, "center" first cuts the largest centred
    region of the input's aspect ratio. A card without the field means DEFAULT_RESIZE (what every model before
    the field was trained and played with)."""

    shrink: str = "area"
    enlarge: str = "bilinear"
    crop: str = "none"

    def to_json_obj(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_json_obj(cls, obj: object) -> ResizeSpec:
        """Raises: ValueError: not an object of the three known keys with known values."""
        if not isinstance(obj, dict) or set(obj) - {"shrink", "enlarge", "crop"}:
            raise ValueError(f"input.resize must hold shrink, enlarge and crop only, got {obj!r}")
        spec = cls(**{k: str(v) for k, v in obj.items()})
        for value in (spec.shrink, spec.enlarge):
            if value not in RESIZE_INTERPOLATIONS:
                raise ValueError(f"input.resize interpolation {value!r} is not one of {RESIZE_INTERPOLATIONS}")
        if spec.crop not in RESIZE_CROPS:
            raise ValueError(f"input.resize crop {spec.crop!r} is not one of {RESIZE_CROPS}")
        return spec


DEFAULT_RESIZE = ResizeSpec()
_PUBLIC_SCHEMES = ("http", "https")


def portable(value: Any) -> Any:
    """`value` (a JSON-like tree) with nothing that belongs to one machine: an absolute path becomes its file name,
    and a URL other than http(s) (a database's, which may carry a host and a password) becomes "scheme:name".

    A card travels to other machines (the game's bundle, the server); the machine that trained it is no fact of
    the model, and its paths would leak the trainer's user name and folders.
    """
    if isinstance(value, dict):
        return {key: portable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [portable(item) for item in value]
    if not isinstance(value, str):
        return value
    if "://" in value:
        parts = urlsplit(value)
        if parts.scheme and parts.scheme not in _PUBLIC_SCHEMES:
            return f"{parts.scheme}:{PurePosixPath(parts.path).name}"
        return value
    if value.startswith("~") or PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute():
        return PureWindowsPath(value).name  # Windows paths split at either slash, so this names both kinds
    return value


@dataclass
class InputSpec:
    """What the ONNX graph takes: raw RGB images, or a feature vector from a named extractor."""

    kind: str  # "image" | "features"
    height: int
    width: int
    channels: int = 3
    layout: str = "NHWC"
    dtype: str = "uint8"
    extractor: dict[str, Any] | None = None  # {"name": ..., "params": {...}} when kind == "features"
    resize: ResizeSpec | None = None  # None: a card from before the field, read as DEFAULT_RESIZE

    @property
    def resize_or_default(self) -> ResizeSpec:
        """The resize the model's input goes through (DEFAULT_RESIZE for a card that does not state one)."""
        return self.resize or DEFAULT_RESIZE

    def to_json_obj(self) -> dict[str, Any]:
        obj = asdict(self)
        if self.kind == "image":
            obj.pop("extractor")
        obj.pop("resize")
        if self.resize is not None:  # an old card stays byte for byte as it was
            obj["resize"] = self.resize.to_json_obj()
        return obj


@dataclass
class ModelCard:
    """Everything the game, the trainer and the server need to know about one model."""

    id: str
    title: str
    family: str
    variant: str
    pack_id: str
    classes: list[str]
    input: InputSpec
    metrics: dict[str, Any] = field(default_factory=dict)
    difficulty: str | None = None
    onnx_sha256: str = ""
    opset: int = 0
    created: str = ""
    trainer_version: str = ""
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def test_accuracy(self) -> float | None:
        value = self.metrics.get("test_accuracy")
        return None if value is None else float(value)

    def to_json_obj(self) -> dict[str, Any]:
        """The card's JSON, its training facts made `portable` (no path or database URL of the training machine)."""
        obj = asdict(self)
        obj["input"] = self.input.to_json_obj()
        obj["training"] = portable(obj["training"])
        return obj

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any], *, source: str = "model card") -> ModelCard:
        _check_shape(obj, source)
        try:
            spec = dict(obj["input"])
            if "resize" in spec:
                spec["resize"] = ResizeSpec.from_json_obj(spec["resize"])
            card = cls(
                id=str(obj["id"]),
                title=str(obj.get("title") or obj["id"]),
                family=str(obj["family"]),
                variant=str(obj.get("variant", "")),
                pack_id=str(obj["pack_id"]),
                classes=[str(c) for c in obj["classes"]],
                input=InputSpec(**spec),
                metrics=dict(obj.get("metrics") or {}),
                difficulty=obj.get("difficulty"),
                onnx_sha256=str(obj.get("onnx_sha256", "")),
                opset=int(obj.get("opset", 0)),
                created=str(obj.get("created", "")),
                trainer_version=str(obj.get("trainer_version", "")),
                training=dict(obj.get("training") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelCardError(f"{source} is missing or has a malformed field ({exc}).") from exc
        card.validate(source=source)
        return card

    def validate(self, *, source: str = "model card") -> None:
        """Raise ModelCardError on inconsistent content."""
        problems = []
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            problems.append(f"classes must be >= 2 distinct names, got {self.classes}")
        if self.input.kind not in ("image", "features"):
            problems.append(f"input.kind must be 'image' or 'features', got {self.input.kind!r}")
        if self.input.kind == "image" and (self.input.layout, self.input.dtype) != ("NHWC", "uint8"):
            problems.append("image input must be NHWC uint8")
        if self.input.kind == "features" and not (self.input.extractor or {}).get("name"):
            problems.append("a features input must name its extractor")
        size = (self.input.height, self.input.width)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in size):
            problems.append(f"input height and width must be integers, got {size[0]!r}x{size[1]!r}")
        elif self.input.height <= 0 or self.input.width <= 0:
            problems.append(f"input size must be positive, got {self.input.height}x{self.input.width}")
        if self.difficulty is not None and self.difficulty not in DIFFICULTIES:
            problems.append(f"difficulty must be one of {DIFFICULTIES}, got {self.difficulty!r}")
        if problems:
            raise ModelCardError(f"{source} is invalid: " + "; ".join(problems) + ".")


_REQUIRED_FIELDS = ("id", "family", "pack_id", "classes", "input")
_FIELD_TYPES = {"input": dict, "classes": list, "metrics": dict, "training": dict}


def _check_shape(obj: Any, source: str) -> None:
    """Name the offending field when a card's JSON lacks a required field or has one of the wrong type."""
    if not isinstance(obj, dict):
        raise ModelCardError(f"{source} is not a JSON object.")
    missing = [key for key in _REQUIRED_FIELDS if key not in obj]
    if missing:
        raise ModelCardError(f"{source} is missing required field(s) {', '.join(map(repr, missing))}.")
    for key, kind in _FIELD_TYPES.items():
        value = obj.get(key)
        if (value is not None or key in _REQUIRED_FIELDS) and not isinstance(value, kind):
            raise ModelCardError(f"{source}: field '{key}' must be a JSON {kind.__name__}, got {value!r}.")


def write_card(card: ModelCard, model_dir: str | Path) -> Path:
    """Write `model.json` into model_dir (atomically) and return its path."""
    card.validate()
    path = Path(model_dir) / CARD_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(card.to_json_obj(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_card(model_dir: str | Path, *, check_onnx: bool = True) -> ModelCard:
    """Read and validate `model.json` in model_dir.

    Args:
        model_dir: the model's directory (holding model.json and model.onnx).
        check_onnx: also check that model.onnx exists and its SHA-256 matches the card.

    Raises:
        ModelCardError: missing/malformed card, missing ONNX file, or a hash mismatch.
    """
    model_dir = Path(model_dir)
    path = model_dir / CARD_FILE
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelCardError(f"No model card at {path}. Export the model again with eyevsai-train.") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelCardError(f"Model card {path} is not readable JSON ({exc}).") from exc
    card = ModelCard.from_json_obj(obj, source=f"Model card {path}")
    if check_onnx:
        onnx_path = model_dir / ONNX_FILE
        if not onnx_path.is_file():
            raise ModelCardError(f"Model card {path} has no ONNX file beside it ({onnx_path} is missing).")
        actual = file_sha256(onnx_path)
        if card.onnx_sha256 and actual != card.onnx_sha256:
            raise ModelCardError(
                f"{onnx_path} does not match its card: SHA-256 {actual[:12]}… but the card says "
                f"{card.onnx_sha256[:12]}…. Re-export the model or restore the original file."
            )
    return card


def discover_models(*roots: str | Path) -> tuple[list[tuple[Path, ModelCard]], list[str]]:
    """Find every model directory (a folder with model.json) under the given roots.

    Returns:
        (models, problems): valid (dir, card) pairs, and one message per broken model, so a caller can
        keep working with the rest.
    """
    found: list[tuple[Path, ModelCard]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for card_path in sorted(root.glob(f"*/{CARD_FILE}")):
            try:
                card = read_card(card_path.parent)
            except ModelCardError as exc:
                problems.append(str(exc))
                continue
            if card.id not in seen:
                seen.add(card.id)
                found.append((card_path.parent, card))
    return found, problems
