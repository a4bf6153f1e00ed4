"""A function-local import says why it is deferred (`# lazy: <what>`), in every package of the project.

Such imports keep torch, TensorFlow, scikit-learn, Optuna, onnxruntime and Qt off the import path; one that only
dodges an import cycle hides a layering problem, so the cycle has to go instead (docs/architecture.md §2).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("classifiers", "desktop", "game_rules", "qtsupport", "sync_server", "trainer")


def _untagged_local_imports(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom) and "# lazy:" not in lines[node.end_lineno - 1]:
                found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return found


def test_every_function_local_import_says_what_it_defers() -> None:
    untagged = [
        problem
        for package in PACKAGES
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        for problem in _untagged_local_imports(path)
    ]
    assert untagged == [], (
        "Import these at module level, or add a trailing '# lazy: <what it defers>' comment:\n" + "\n".join(untagged)
    )
