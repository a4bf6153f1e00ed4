"""Installing a family's pip extra into the running environment, pinned by the project's constraints file."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from classifiers.errors import ConfigError

DISTRIBUTION = "eyevsai"
CONSTRAINTS_ENV = "EYEVSAI_CONSTRAINTS"
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_SELF_EXTRAS = re.compile(r"^eyevsai\s*\[([^\]]+)\]", re.IGNORECASE)


def _declared() -> list[str]:
    """The project's requirement strings (`name spec; extra == "x"`), from the installed metadata or pyproject."""
    try:
        return list(metadata.requires(DISTRIBUTION) or [])
    except metadata.PackageNotFoundError:
        project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
        return [
            f'{req}; extra == "{extra}"' for extra, reqs in project["optional-dependencies"].items() for req in reqs
        ]


def extra_requirements(extra: str, declared: list[str] | None = None) -> list[str]:
    """The concrete requirements of an extra, its nested `eyevsai[...]` extras expanded.

    Raises:
        ConfigError: the project has no such extra.
    """
    declared = _declared() if declared is None else declared
    by_extra: dict[str, list[str]] = {}
    for line in declared:
        requirement, _, marker = line.partition(";")
        found = _EXTRA_MARKER.search(marker)
        if found:
            by_extra.setdefault(found.group(1), []).append(requirement.strip())
    if extra not in by_extra:
        raise ConfigError(f"The project has no extra {extra!r}; it has {', '.join(sorted(by_extra))}.")
    result: list[str] = []
    pending, seen = [extra], set()
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        for requirement in by_extra.get(name, []):
            nested = _SELF_EXTRAS.match(requirement)
            if nested:
                pending += [part.strip() for part in nested.group(1).split(",")]
            elif requirement not in result:
                result.append(requirement)
    return result


def find_constraints(explicit: str | Path | None = None) -> Path | None:
    """--constraints, else $EYEVSAI_CONSTRAINTS, else constraints.txt of a source checkout, else None.

    Raises:
        ConfigError: an explicitly named file that does not exist.
    """
    named = explicit or os.environ.get(CONSTRAINTS_ENV)
    if named:
        if not Path(named).is_file():
            raise ConfigError(f"Constraints file {named} does not exist.")
        return Path(named)
    candidate = Path(__file__).resolve().parents[1] / "constraints.txt"
    return candidate if candidate.is_file() else None


def pip_command(requirements: list[str], constraints: Path | None, *, dry_run: bool = False) -> list[str]:
    command = [sys.executable, "-m", "pip", "install"]
    if constraints is not None:
        command += ["-c", str(constraints)]
    if dry_run:
        command.append("--dry-run")
    return command + requirements
