"""Planning a train-all run: the (family × variant × pack) jobs, and which of them are already done. Pure logic."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classifiers.errors import ConfigError, UnknownFamilyError
from classifiers.families.params import Hyperparams, hyperparams_of
from classifiers.registry import family_label, get_family, list_families, normalise_name


@dataclass(frozen=True)
class Job:
    """One model to make: a family's variant trained (or tuned, then trained) on a pack."""

    pack_id: str
    family: str
    variant: str
    tune: bool = False

    @property
    def key(self) -> str:
        """Stable identity of the job across runs of the pipeline (log file names, registry `job` column)."""
        return f"{self.pack_id}.{self.family}.{self.variant}" + (".tuned" if self.tune else "")

    @property
    def slug(self) -> str:
        """The key, safe as a file name on every platform."""
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.key)

    @property
    def label(self) -> str:
        return f"{family_label(self.family)}/{self.variant} on {self.pack_id}" + (" (tuned)" if self.tune else "")


@dataclass(frozen=True)
class PlanEntry:
    job: Job
    run: bool
    reason: str  # why it runs or is skipped, for the plan table
    model_id: str | None = None  # the finished model that makes it skip


def parse_families(specs: Sequence[str], known: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """(family, variant) pairs from options like "shallow", "shallow/svm,deep-v1" (a family alone: all variants).

    Args:
        specs: option values; each may hold several comma-separated entries.
        known: registered family name → its variants.

    Raises:
        UnknownFamilyError: an unregistered family (the message lists the registered ones).
        ConfigError: a variant the family does not have, or nothing selected.
    """
    selected: list[tuple[str, str]] = []
    for spec in specs:
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            name, _, variant = entry.partition("/")
            family = normalise_name(name)
            if family not in known:
                listed = ", ".join(family_label(key) for key in known)
                raise UnknownFamilyError(f"Unknown family {name!r}; registered families: {listed}.")
            variants = list(known[family])
            if variant and variant not in variants:
                raise ConfigError(
                    f"Family '{family_label(family)}' has no variant {variant!r}; choose one of {variants}."
                )
            for chosen in [variant] if variant else variants:
                if (family, chosen) not in selected:
                    selected.append((family, chosen))
    if not selected:
        raise ConfigError("No family selected; pass --families with names from `eyevsai-train list`.")
    return selected


def parse_packs(specs: Sequence[str]) -> list[str]:
    """Pack ids from options like "a,b" --packs c, in order, without duplicates."""
    packs: list[str] = []
    for spec in specs:
        for pack in filter(None, (part.strip() for part in spec.split(","))):
            if pack not in packs:
                packs.append(pack)
    if not packs:
        raise ConfigError("No pack selected; pass --packs with ids from `eyevsai-train pack info`.")
    return packs


def plan_jobs(
    selection: Sequence[tuple[str, str]],
    packs: Sequence[str],
    *,
    tune: bool,
    finished: Mapping[Job, str],
    retrain: bool = False,
) -> list[PlanEntry]:
    """Every (pack, family, variant) job, pack by pack in the order given, marked run or skip.

    Args:
        finished: job → id of a done model that satisfies it (from the registry).
        retrain: run every job even when a finished model exists.
    """
    entries = []
    for pack_id in packs:
        for family, variant in selection:
            job = Job(pack_id, family, variant, tune)
            model_id = finished.get(job)
            if model_id is not None and not retrain:
                entries.append(PlanEntry(job, False, f"done: {model_id}", model_id))
            else:
                entries.append(PlanEntry(job, True, "retrain" if model_id else "to run"))
    return entries


def summary_counts(entries: Sequence[PlanEntry]) -> dict[str, int]:
    return {"jobs": len(entries), "to_run": sum(e.run for e in entries), "skipped": sum(not e.run for e in entries)}


def parse_settings(values: Sequence[str], declared: Sequence[Hyperparams] | None = None) -> dict[str, dict[str, Any]]:
    """Fixed hyperparameters from `--set KEY=VALUE` or `--set FAMILY.KEY=VALUE`, each read by its declared Param.

    Args:
        declared: the declarations of the selected families (default: every registered family's); a KEY=VALUE
            must suit each of them that has KEY, and at least one must have it.

    Returns: family name (or "*" for every family) → {key: value}.

    Raises:
        ConfigError: an entry without "=", a key no family has (listing the known ones), or a value its Param
            refuses ("--set C=abc: C must be a number from 0.0001 to 10000.").
    """
    if declared is None:
        declared = [d for info in list_families() if (d := hyperparams_of(info.estimator)) is not None]
    settings: dict[str, dict[str, Any]] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set {item!r} is not KEY=VALUE (e.g. --set epochs=10 or --set deep-v2.width=48).")
        family, dot, key = name.strip().rpartition(".")
        family = normalise_name(family) if dot else "*"
        targets = [d for d in declared if family in ("*", d.family)]
        if not targets:  # a family that is not selected: its own declaration still checks the value
            targets = [d for d in [hyperparams_of(get_family(family).estimator)] if d is not None]
        params = [d[key] for d in targets if key in d]
        if not params:
            known = ", ".join(sorted({n for d in targets for n in d.names}, key=str.lower))
            where = "no selected family has" if family == "*" else f"family '{family}' has no"
            raise ConfigError(f"--set {item}: {where} hyperparameter {key!r}; the known ones are {known}.")
        parsed = [param.parse(raw, f"--set {item}") for param in params]  # every family with the key accepts it
        settings.setdefault(family, {})[key] = parsed[0]
    return settings
