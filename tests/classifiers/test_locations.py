"""bundled_assets_dir: the bundled pack and models are found from a checkout, a wheel and a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from classifiers import locations
from classifiers.locations import INSTALLED_ASSETS, bundled_assets_dir

REPO = Path(__file__).resolve().parents[2]


def test_a_source_checkout_reads_the_repository_assets() -> None:
    assert bundled_assets_dir() == REPO / "assets"
    assert (bundled_assets_dir() / "packs" / "fashion-mnist" / "pack.json").is_file()


def test_a_pyinstaller_bundle_reads_its_own_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path.joinpath(*INSTALLED_ASSETS)
    (copy / "models").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert bundled_assets_dir() == copy


def test_an_installed_package_reads_its_package_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "classifiers"
    (package / "assets" / "packs").mkdir(parents=True)
    (tmp_path / "site-packages" / "assets" / "packs").mkdir(parents=True)  # another distribution's folder
    monkeypatch.setattr(locations, "__file__", str(package / "locations.py"))
    assert bundled_assets_dir() == package / "assets"
