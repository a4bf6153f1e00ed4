"""The family registry: classifier families register under a stable name with a decorator (timm-style).

Registering imports no framework: a family names the modules it needs, and `is_available` checks for them
without importing, so listing families works with only the game's dependencies installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from classifiers.errors import ConfigError, MissingExtraError, UnknownFamilyError

T = TypeVar("T")


@dataclass(frozen=True)
class FamilyInfo:
    """A registered family: its name, the pip extra that installs it, and its estimator class."""

    name: str
    title: str
    extra: str
    requires: tuple[str, ...]
    variants: tuple[str, ...]
    estimator: Callable[..., Any]

    def missing_modules(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    @property
    def is_available(self) -> bool:
        return not self.missing_modules()

    def create(self, variant: str | None = None, **params: Any) -> Any:
        """A new, unfitted estimator of this family.

        Raises:
            MissingExtraError: the family's framework is not installed.
            ValueError: an unknown variant.
        """
        missing = self.missing_modules()
        if missing:
            raise MissingExtraError(
                f"Family '{family_label(self.name)}' needs {', '.join(missing)}, which is not installed. "
                f"Install it with `pip install 'eyevsai[{self.extra}]'`."
            )
        variant = variant or self.variants[0]
        if variant not in self.variants:
            raise ConfigError(
                f"Family '{family_label(self.name)}' has no variant {variant!r}; choose one of {self.variants}."
            )
        return self.estimator(variant=variant, **params)


_FAMILIES: dict[str, FamilyInfo] = {}


def normalise_name(name: str) -> str:
    """The stored spelling of a family name (as in cards and the registry): "deep-v1" → "deep_v1"."""
    return name.strip().lower().replace("-", "_")


def family_label(name: str) -> str:
    """The spelling users see and type (as the CLI's `train deep-v1`): "deep_v1" → "deep-v1".

    Cards and the registry keep the stored spelling (`normalise_name`); every input accepts both.
    """
    return normalise_name(name).replace("_", "-")


def register_family(
    name: str, *, title: str, extra: str, requires: tuple[str, ...], variants: tuple[str, ...]
) -> Callable[[type[T]], type[T]]:
    """Class decorator registering an estimator class as family `name`."""

    def decorate(cls: type[T]) -> type[T]:
        key = normalise_name(name)
        if key in _FAMILIES and _FAMILIES[key].estimator is not cls:
            raise ValueError(f"Family {key!r} is registered twice.")
        _FAMILIES[key] = FamilyInfo(key, title, extra, tuple(requires), tuple(variants), cls)
        return cls

    return decorate


def _ensure_loaded() -> None:
    import classifiers.families  # noqa: F401  # lazy: the family modules, which import this registry


def list_families() -> list[FamilyInfo]:
    _ensure_loaded()
    return list(_FAMILIES.values())


def get_family(name: str) -> FamilyInfo:
    """The family registered as `name` ("deep-v1" and "deep_v1" both work).

    Raises:
        UnknownFamilyError: listing the registered names.
    """
    _ensure_loaded()
    try:
        return _FAMILIES[normalise_name(name)]
    except KeyError:
        known = ", ".join(family_label(key) for key in _FAMILIES)
        raise UnknownFamilyError(f"Unknown family {name!r}; registered families: {known}.") from None
