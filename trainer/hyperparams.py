"""Hyperparameter forms for a family: defaults from the estimator's signature, help from its docstring.

A family's estimator stores its hyperparameters as keyword arguments (scikit-learn's rule), so their names,
defaults and types come from `inspect.signature`, and the "Args:" section of its docstring gives each one a
tooltip. A small table adds what a signature cannot say (ranges, choices, which parameters are the main ones),
so a family added later (e.g. `transfer`) gets a usable form without any GUI change.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from classifiers.registry import FamilyInfo

KINDS = ("int", "float", "bool", "choice", "text")


@dataclass(frozen=True)
class ParamSpec:
    """One editable hyperparameter.

    Attributes:
        kind: "int", "float", "bool", "choice" (one of `choices`) or "text" (free text, e.g. a path or "scale").
        optional: None is a valid value (shown as an "auto"/"off" choice by the form).
        log: a float that spans orders of magnitude (shown in scientific notation).
        is_main: shown in the main form; the others sit under "Advanced".
        variants: the variants that use it (empty: every variant).
    """

    name: str
    kind: str
    default: Any
    help: str = ""
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    log: bool = False
    is_main: bool = False
    variants: tuple[str, ...] = ()

    def applies_to(self, variant: str) -> bool:
        return not self.variants or variant in self.variants


# What a signature cannot tell: bounds and choices (matching the families' own validation).
_BOUNDS: dict[str, tuple[float, float]] = {
    "epochs": (1, 1000),
    "batch_size": (1, 4096),
    "image_size": (8, 512),
    "lr": (1e-6, 10.0),
    "weight_decay": (0.0, 1.0),
    "width": (4, 512),
    "blocks": (1, 5),
    "stages": (1, 5),
    "depth": (1, 8),
    "dropout": (0.0, 0.95),
    "patience": (0, 1000),
    "seed": (0, 2**31 - 1),
    "workers": (0, 64),
    "crop_scale": (0.05, 1.0),
    "jitter": (0.0, 0.95),
    "erase_prob": (0.0, 1.0),
    "mixup_alpha": (0.0, 10.0),
    "mixup_prob": (0.0, 1.0),
    "label_smoothing": (0.0, 0.95),
    "accumulate": (1, 256),
    "clip": (0.0, 100.0),
    "warmup": (0.0, 100.0),
    "feature_size": (16, 256),
    "pca_components": (1, 10_000),
    "select_k": (1, 100_000),
    "C": (1e-4, 1e4),
    "n_estimators": (1, 5000),
    "max_depth": (1, 200),
    "min_samples_leaf": (1, 1000),
    "fine_tune_epochs": (0, 1000),
    "fine_tune_lr": (1e-7, 1.0),
    "freeze_epochs": (0, 1000),
    "fine_tune_layers": (0, 10_000),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "device": ("auto", "cpu", "cuda"),
    "schedule": ("cosine", "onecycle"),
    "amp": ("none", "bf16", "fp16"),
    "class_weight": ("balanced", "none"),
}
_LOG = {"lr", "C", "weight_decay", "fine_tune_lr"}
# Shown first; a family not listed shows the parameters named in _GENERIC_MAIN that it has.
_MAIN: dict[str, tuple[str, ...]] = {
    "shallow": ("feature_size", "C", "n_estimators", "max_depth", "pca_components"),
    "deep_v1": ("epochs", "batch_size", "image_size", "lr", "width", "blocks", "dropout", "patience", "augment"),
    "deep_v2": (
        "epochs",
        "batch_size",
        "image_size",
        "lr",
        "width",
        "stages",
        "depth",
        "mixup_alpha",
        "label_smoothing",
        "patience",
    ),
    "transfer": (
        "weights",
        "image_size",
        "freeze_epochs",
        "fine_tune_epochs",
        "fine_tune_layers",
        "batch_size",
        "lr",
        "fine_tune_lr",
        "patience",
        "augment",
    ),
}
_GENERIC_MAIN = (
    "epochs",
    "fine_tune_epochs",
    "batch_size",
    "image_size",
    "lr",
    "fine_tune_lr",
    "dropout",
    "patience",
    "backbone",
)
# Parameters only some variants read (the others ignore them: the form disables them).
_VARIANT_ONLY: dict[str, dict[str, tuple[str, ...]]] = {
    "shallow": {
        "C": ("svm", "logreg"),
        "gamma": ("svm",),
        "n_estimators": ("rf",),
        "max_depth": ("rf",),
        "min_samples_leaf": ("rf",),
    },
}
# Parameters the GUI fills itself or that need a file picker of their own.
_HIDDEN = {"variant", "checkpoint", "resume"}
_TYPE_WORDS = re.compile(r"[A-Za-z_]+")


def parse_docstring_args(doc: str | None) -> dict[str, str]:
    """Map parameter name -> description from a Google-style "Args:" section ("a, b: shared text" gives both)."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Args:") + 1
    except StopIteration:
        return {}
    result: dict[str, str] = {}
    current: list[str] = []
    names: list[str] = []
    indent = None
    for line in lines[start:]:
        if not line.strip():
            continue
        this_indent = len(line) - len(line.lstrip())
        if indent is None:
            indent = this_indent
        if this_indent < indent:  # the next section ("Returns:") or the end of Args
            break
        head, sep, rest = line.strip().partition(":")
        if this_indent == indent and sep and re.fullmatch(r"[A-Za-z_][\w, ]*", head):
            for name in names:
                result[name] = " ".join(current)
            names = [n.strip() for n in head.split(",") if n.strip()]
            current = [rest.strip()]
        else:
            current.append(line.strip())
    for name in names:
        result[name] = " ".join(current)
    return result


def _kind_of(annotation: Any, default: Any) -> tuple[str, bool]:
    """(kind, optional) from a string annotation such as "int | None" or, failing that, the default's type."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    words = set(_TYPE_WORDS.findall(text or ""))
    optional = "None" in words or "Optional" in words or default is None
    words -= {"None", "Optional"}
    if words == {"bool"} or isinstance(default, bool):
        return "bool", optional
    if words == {"int"}:
        return "int", optional
    if words == {"float"} or words == {"int", "float"}:
        return "float", optional
    if words == {"str"} or len(words) > 1:  # "str | float" (e.g. gamma="scale" or 0.1) is typed as text
        return "text", optional
    if isinstance(default, int):
        return "int", optional
    if isinstance(default, float):
        return "float", optional
    return "text", optional


def family_params(info: FamilyInfo) -> list[ParamSpec]:
    """The editable hyperparameters of a family's estimator, main ones first, in signature order."""
    estimator = info.estimator
    signature = inspect.signature(estimator.__init__)
    docs = parse_docstring_args(estimator.__doc__)
    main = _MAIN.get(info.name, _GENERIC_MAIN)
    specs = []
    for name, parameter in signature.parameters.items():
        if name in _HIDDEN or name == "self" or parameter.default is inspect.Parameter.empty:
            continue
        kind, optional = _kind_of(parameter.annotation, parameter.default)
        choices = _CHOICES.get(name, ())
        if choices:
            kind = "choice"
        low, high = _BOUNDS.get(name, (None, None))
        specs.append(
            ParamSpec(
                name=name,
                kind=kind,
                default=parameter.default,
                help=docs.get(name, ""),
                optional=optional,
                minimum=low,
                maximum=high,
                choices=choices,
                log=name in _LOG,
                is_main=name in main,
                variants=_VARIANT_ONLY.get(info.name, {}).get(name, ()),
            )
        )
    specs.sort(key=lambda s: (not s.is_main, main.index(s.name) if s.is_main else 0))
    return specs


def variant_help(info: FamilyInfo) -> str:
    """The docstring's description of the `variant` argument (what each variant means)."""
    return parse_docstring_args(info.estimator.__doc__).get("variant", "")


def changed_params(specs: list[ParamSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that differ from their defaults (what a model card or a log line needs to show)."""
    defaults = {s.name: s.default for s in specs}
    return {name: value for name, value in values.items() if name in defaults and defaults[name] != value}


def coerce_text(spec: ParamSpec, text: str) -> Any:
    """A text field's value: empty means None for an optional parameter; numbers stay numbers ("0.1" → 0.1).

    Raises:
        ValueError: empty text for a required parameter.
    """
    text = text.strip()
    if not text:
        if spec.optional:
            return None
        raise ValueError(f"{spec.name} needs a value (default: {spec.default!r}).")
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text
