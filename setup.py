"""Build hook: the repository's top-level `assets/` installs as data of the `classifiers` package.

pyproject.toml declares everything else. setuptools cannot give a folder outside a package a package name while
`[tool.setuptools.packages.find]` discovers the packages, so a wheel gets `assets/packs` and `assets/models` here,
as `classifiers/assets/` (site-packages then holds only the project's own top-level names), where
classifiers.locations.bundled_assets_dir() finds them. Editable installs copy nothing: the checkout's `assets/`
is found directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ASSETS = Path(__file__).resolve().parent / "assets"
INSTALLED_AS = ("classifiers", "assets")  # keep in step with classifiers.locations.bundled_assets_dir
PARTS = ("packs", "models")


class BuildPyWithAssets(build_py):
    """build_py, then the bundled pack and models copied into the built `classifiers` package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib, *INSTALLED_AS)
        for part in PARTS:
            if (ASSETS / part).is_dir():
                shutil.copytree(ASSETS / part, target / part, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithAssets})
