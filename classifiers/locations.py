"""Where bundled assets and per-user data live, for a source checkout, a pip install and a PyInstaller bundle."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from platformdirs import user_data_path

APP_NAME = "eyevsai"
# Where a wheel and a PyInstaller bundle hold the bundled pack and models, relative to their root.
INSTALLED_ASSETS = ("classifiers", "assets")


def bundled_assets_dir() -> Path:
    """The bundled pack and models (packs/ and models/ inside), wherever this copy of the program runs from.

    A PyInstaller bundle and an installed wheel carry them as `classifiers/assets/` (build.spec, setup.py); a
    source checkout or an editable install reads the repository's top-level `assets/`.
    """
    package = Path(__file__).resolve().parent
    frozen_root = getattr(sys, "_MEIPASS", None)
    candidates = [Path(frozen_root, *INSTALLED_ASSETS)] if frozen_root else []
    candidates += [package / INSTALLED_ASSETS[-1], package.parent / "assets"]
    for candidate in candidates:
        if (candidate / "packs").is_dir() or (candidate / "models").is_dir():
            return candidate
    return candidates[0]


def user_data_dir(override: str | Path | None = None) -> Path:
    """Per-user data: $EYEVSAI_DATA_DIR, else the platform's user data directory."""
    if override:
        return Path(override)
    if os.environ.get("EYEVSAI_DATA_DIR"):
        return Path(os.environ["EYEVSAI_DATA_DIR"])

    return user_data_path(APP_NAME, appauthor=False)


def display_problem(environ: Mapping[str, str], platform: str) -> str | None:
    """Why no window can open here (Linux with no display and no Qt platform chosen), or None.

    The GUI programs check this first: Qt itself aborts with a message about platform plugins.
    """
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return "no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset)"
