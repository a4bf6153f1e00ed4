"""The player's remembered choices (last setup, image scaling, sound, whether "how to play" was seen) in a small
JSON file next to the game's database. Qt-free; a folder that cannot be written keeps them for this run only."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Prefs:
    """A tiny key/value store; `path` None keeps everything in memory (tests, a database held in memory)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._values: dict[str, Any] = {}
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self._values = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError) as exc:  # a damaged file only costs the remembered choices
                log.warning("ignoring unreadable settings %s: %s", path, exc)

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        if self._values.get(key) == value:
            return
        self._values[key] = value
        if self.path is None:
            return
        try:
            self.path.write_text(json.dumps(self._values, indent=1, sort_keys=True), encoding="utf-8")
        except OSError as exc:  # read-only data folder: remembered for this run only
            log.warning("cannot save settings to %s: %s", self.path, exc)


def prefs_beside(database: Path) -> Prefs:
    """The settings file next to a database file; in memory when the database is not a file."""
    if str(database) in ("", ":memory:"):
        return Prefs(None)
    return Prefs(database.parent / "game-settings.json")
