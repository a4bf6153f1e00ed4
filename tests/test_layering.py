"""The layering rules of docs/architecture.md §2, checked by import-linter contracts (pyproject.toml) and ruff."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    executable = BIN_DIR / tool
    if not executable.exists():
        pytest.fail(f"{tool} is not installed beside {sys.executable}; install the dev extra.")
    return subprocess.run([str(executable), *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_import_contracts_hold() -> None:
    result = _run("lint-imports")
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}\n{result.stderr}"


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, f"ruff check . failed:\n{result.stdout}\n{result.stderr}"
