"""Hyperparameter declarations: every hyperparameter of a family is declared once, as a `Param`.

A family's `Hyperparams` (its variants and its Params) is the one source of its hyperparameter facts: the estimator's
constructor, `get_params` and validation, the trainer's CLI options and `--set` parsing, the GUI form and the tuning
ranges all derive from it. Qt-free and framework-free: listing and checking values needs only the game's deps.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from classifiers.errors import ConfigError
from classifiers.registry import family_label

KINDS = ("int", "float", "bool", "choice", "text")
NONE_WORDS = ("", "none", "null")  # what a text value of an optional parameter says for None
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Tune:
    """Where tuning searches: one of `choices`, or from `low` to `high` (log scale; `step` for integers)."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    step: int | None = None
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Param:
    """One hyperparameter.

    Attributes:
        kind: "int", "float", "bool", "choice" (one of `choices`) or "text" (a path, a layer name...).
        low, high: inclusive bounds of an int or float (None: unbounded on that side).
        words: text values a number also accepts (gamma: "scale" or a float).
        optional: None is a valid value ("auto"/"off").
        log: spans orders of magnitude (shown in scientific notation).
        is_main: shown in the GUI's main form; the others sit under "Advanced".
        variants: the variants that read it (empty: every variant).
        tune: the tuning range, or one per variant ({variant: Tune}); None: not tuned.
        in_cli, in_form: whether the CLI / the GUI offer it (a front end may fill it itself).
        in_card: whether the model card records it. A run setting of one machine (worker processes, the device
            asked for, checkpoint and cache paths, threads) is not: a card holds only facts true on any machine.
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    optional: bool = False
    log: bool = False
    is_main: bool = False
    variants: tuple[str, ...] = ()
    tune: Tune | Mapping[str, Tune] | None = field(default=None, compare=False)
    in_cli: bool = True
    in_form: bool = True
    in_card: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name!r}: kind {self.kind!r} is not one of {KINDS}.")
        if self.problem(self.default):  # a declaration whose default it refuses is a bug
            raise ValueError(f"Param {self.name!r}: its default {self.default!r} is not {self.expectation()}.")

    def applies_to(self, variant: str) -> bool:
        return not self.variants or variant in self.variants

    def tuning(self, variant: str) -> Tune | None:
        """The range tuning searches for `variant` (None: not tuned, or not read by that variant)."""
        if not self.applies_to(variant) or self.tune is None:
            return None
        return self.tune if isinstance(self.tune, Tune) else self.tune.get(variant)

    # -- checking -----------------------------------------------------------------------------------------------
    def expectation(self) -> str:
        """What a value must be, e.g. "an integer from 1 to 5000" or "one of 'auto', 'cpu', 'cuda'"."""
        if self.kind == "bool":
            text = "true or false"
        elif self.kind == "choice":
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.kind == "text":
            text = "a non-empty text"
        else:
            text = ("an integer" if self.kind == "int" else "a number") + self._range()
            if self.words:
                text = ", ".join(repr(w) for w in self.words) + " or " + text
        return f"none or {text}" if self.optional else text

    def _range(self) -> str:
        def show(bound: float) -> str:
            return str(int(bound)) if self.kind == "int" else f"{bound:g}"

        if self.low is not None and self.high is not None:
            return f" from {show(self.low)} to {show(self.high)}"
        if self.low is not None:
            return f" >= {show(self.low)}"
        return f" <= {show(self.high)}" if self.high is not None else ""

    def problem(self, value: Any) -> str | None:
        """None when `value` is allowed, else "name must be <expectation>"."""
        return None if self._allows(value) else f"{self.name} must be {self.expectation()}"

    def _allows(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "choice":
            return value in self.choices
        if self.kind == "text":
            return isinstance(value, str) and value != ""
        if isinstance(value, str):
            return value in self.words
        if isinstance(value, bool) or not isinstance(value, Integral if self.kind == "int" else Real):
            return False
        if not math.isfinite(value):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def check(self, value: Any, source: str = "") -> None:
        """Raise ConfigError naming the parameter, the value and what it must be; `source` names where it came
        from ("--n-estimators 0", "--set C=abc") and replaces the value in the message."""
        problem = self.problem(value)
        if problem:
            raise ConfigError(f"{source}: {problem}." if source else f"{problem}, got {value!r}.")

    def parse(self, text: str, source: str = "") -> Any:
        """The checked value a text (a command-line option, a `--set` value, a form field) stands for.

        Raises:
            ConfigError: the text is no allowed value (see `check`).
        """
        value = self._convert(text.strip())
        self.check(value, source)
        return value

    def _convert(self, text: str) -> Any:
        if self.optional and text.lower() in NONE_WORDS:
            return None
        if self.kind == "bool":
            lowered = text.lower()
            return True if lowered in _TRUE else False if lowered in _FALSE else text
        if self.kind in ("int", "float") and text not in self.words:
            for convert in (int, float) if self.kind == "int" else (float,):
                try:
                    number = convert(text)
                except ValueError:
                    continue
                # "2.0" is the integer 2; "2.5" stays a float and is refused as no integer
                return int(number) if self.kind == "int" and float(number).is_integer() else number
        return text


@dataclass(frozen=True)
class Hyperparams:
    """A family's declaration: its variants (the first is the default) and its hyperparameters, in order."""

    family: str
    variants: tuple[str, ...]
    variant_help: str
    params: tuple[Param, ...]

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __contains__(self, name: object) -> bool:
        return any(p.name == name for p in self.params)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def __getitem__(self, name: str) -> Param:
        """The Param called `name`.

        Raises:
            ConfigError: no such hyperparameter, listing the known ones.
        """
        for param in self.params:
            if param.name == name:
                return param
        raise ConfigError(self._unknown(name))

    def check_names(self, names: Iterable[str]) -> None:
        """Raise ConfigError for the first name that is no hyperparameter of the family, listing the known ones."""
        for name in names:
            if name not in self:
                raise ConfigError(self._unknown(name))

    def _unknown(self, name: str) -> str:
        family = family_label(self.family)
        return f"Family '{family}' has no hyperparameter {name!r}; its hyperparameters are {', '.join(self.names)}."

    def card_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values a model card records: those of the Params with `in_card` (and any name not declared here,
        such as "variant"), in the given order."""
        skipped = {p.name for p in self.params if not p.in_card}
        return {name: value for name, value in values.items() if name not in skipped}

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def check(self, variant: str, values: Mapping[str, Any]) -> None:
        """Check the variant and every value (unknown names included) against the declaration.

        Raises:
            ConfigError: the first bad name or value, naming it and what it must be.
        """
        if variant not in self.variants:
            raise ConfigError(f"variant must be one of {', '.join(map(repr, self.variants))}, got {variant!r}.")
        for name, value in values.items():
            self[name].check(value)

    def signature(self) -> inspect.Signature:
        """The constructor's signature: `variant` then every hyperparameter as a keyword argument with its default."""
        keyword = inspect.Parameter.KEYWORD_ONLY
        return inspect.Signature(
            [inspect.Parameter("variant", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=self.variants[0])]
            + [inspect.Parameter(p.name, keyword, default=p.default) for p in self.params]
        )


def hyperparams_of(estimator: Any) -> Hyperparams | None:
    """The declaration of an estimator class (or instance); None for one that declares none."""
    declared = getattr(estimator, "HYPERPARAMS", None)
    return declared if isinstance(declared, Hyperparams) else None
