"""docs/operators.md stays true to the server: every setting is in its table, with its default, and the table names
no setting the server does not have; the commands it tells operators to type exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from typer.main import get_command

from sync_server.__main__ import app
from sync_server.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "operators.md"
DICT_KEY = "<PROVIDER>"  # how the doc writes the key of a dict of nested settings (the OAuth providers)


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The nested settings model of a field's type, and whether it sits under a dict's keys."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if get_origin(annotation) is dict:
        value = get_args(annotation)[1]
        if isinstance(value, type) and issubclass(value, BaseModel):
            return value, True
    return None, False


def setting_names(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf setting as (NAME as in EYEVSAI_SERVER_<NAME>, its field), nested ones joined with `__`."""
    for name, field in model.model_fields.items():
        nested, under_dict = _model_in(field.annotation)
        if nested is None:
            yield prefix + name.upper(), field
        else:
            inner = f"{prefix}{name.upper()}__" + (f"{DICT_KEY}__" if under_dict else "")
            yield from setting_names(nested, inner)


def table_rows() -> dict[str, str]:
    """The settings table of the doc: {setting name: its default cell}, several names per row allowed."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([^`]+)`", cells[0]):
            rows[name] = cells[1]
    return rows


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def test_every_setting_has_a_row_in_the_settings_table() -> None:
    documented = table_rows()
    missing = [name for name, _ in setting_names() if name not in documented]
    assert not missing, f"docs/operators.md's settings table lacks {missing}"


def test_the_settings_table_names_only_real_settings() -> None:
    real = {name for name, _ in setting_names()}
    stale = sorted(set(table_rows()) - real)
    assert not stale, f"docs/operators.md documents settings the server does not have: {stale}"


def test_numeric_defaults_in_the_table_match_the_code() -> None:
    documented = table_rows()
    wrong = []
    for name, field in setting_names():
        default = field.default
        cell = documented.get(name)  # a missing row is the first test's failure
        if cell is None or field.default_factory is not None or isinstance(default, bool):
            continue
        if isinstance(default, int | float) and not re.match(rf"`{re.escape(_number(default))}`", cell):
            wrong.append(f"{name}: code {_number(default)}, doc {cell!r}")
    assert not wrong, "docs/operators.md shows other defaults than the code: " + "; ".join(wrong)


def test_the_commands_the_doc_shows_exist() -> None:
    text = DOC.read_text(encoding="utf-8")
    cli = get_command(app)
    shown = set(re.findall(r"eyevsai-server ([a-z][a-z-]+)(?: ([a-z]+))?", text))
    assert shown, "the doc shows no eyevsai-server command"
    for command, sub in shown:
        assert command in cli.commands, f"docs/operators.md shows `eyevsai-server {command}`, which does not exist"
        group = cli.commands[command]
        if sub and hasattr(group, "commands"):
            assert sub in group.commands, f"docs/operators.md shows `eyevsai-server {command} {sub}`"
