"""Packaging: which extras bring which onnxruntime build, and what a wheel installs into site-packages.

onnxruntime and onnxruntime-gpu install the same package folder, so an environment with both has a broken or
CPU-only onnxruntime. pyproject.toml's rule: only the extras cpu and gpu name a build; game and server bring cpu
(they always run on the CPU build); train, trainer-gui, dev and bundle take whichever build is installed beside them.
So the one combination to avoid is gpu beside an extra that brings cpu.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from itertools import combinations
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from classifiers.errors import MissingExtraError

REPO = Path(__file__).resolve().parents[1]
PROJECT = "eyevsai"
BUILDS = {"onnxruntime", "onnxruntime-gpu"}
# The extras that bring an onnxruntime build, and which one.
RUNTIME_CHOICES = {"cpu": "onnxruntime", "game": "onnxruntime", "server": "onnxruntime", "gpu": "onnxruntime-gpu"}
CPU_BRINGERS = {name for name, build in RUNTIME_CHOICES.items() if build == "onnxruntime"}
QT = {"pyside6-essentials", "pyqtgraph"}
OWN_PACKAGES = {"classifiers", "desktop", "trainer", "sync_server", "game_rules", "qtsupport"}


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project["optional-dependencies"]


def _resolve(names: set[str] | tuple[str, ...], extras: dict[str, list[str]] | None = None) -> set[str]:
    """The distributions a set of extras installs (canonical names), following `eyevsai[...]` self-references."""
    extras = _extras() if extras is None else extras
    found: set[str] = set()
    pending, seen = list(names), set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        assert name in extras, f"eyevsai[{name}] names an extra the project does not have"
        seen.add(name)
        for line in extras[name]:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == PROJECT:
                pending += sorted(requirement.extras)
            else:
                found.add(canonicalize_name(requirement.name))
    return found


def test_only_the_runtime_choices_bring_an_onnxruntime_build() -> None:
    for extra in _extras():
        builds = _resolve({extra}) & BUILDS
        expected = {RUNTIME_CHOICES[extra]} if extra in RUNTIME_CHOICES else set()
        assert builds == expected, f"eyevsai[{extra}] brings {sorted(builds) or 'no onnxruntime build'}"


def test_no_combination_of_extras_installs_both_builds_unless_gpu_sits_beside_a_cpu_extra() -> None:
    extras = _extras()
    names = sorted(extras)
    for size in range(1, len(names) + 1):
        for combination in combinations(names, size):
            chosen = set(combination)
            if "gpu" in chosen and chosen & CPU_BRINGERS:
                continue  # the documented pair to avoid (pyproject.toml)
            builds = _resolve(chosen, extras) & BUILDS
            assert len(builds) <= 1, f".[{','.join(combination)}] installs both {sorted(builds)}"


def test_gpu_beside_train_installs_only_the_gpu_build() -> None:
    assert _resolve({"gpu", "train"}) & BUILDS == {"onnxruntime-gpu"}
    assert _resolve({"gpu", "trainer-gui", "dev", "bundle"}) & BUILDS == {"onnxruntime-gpu"}


@pytest.mark.parametrize(
    ("install", "build"),
    [
        ("gpu,train", "onnxruntime-gpu"),
        ("gpu,train,trainer-gui,dev,bundle", "onnxruntime-gpu"),
        ("server", "onnxruntime"),
        ("game,train,trainer-gui,server,dev", "onnxruntime"),
        ("train,cpu", "onnxruntime"),
    ],
)
def test_documented_installs_bring_exactly_one_build(install: str, build: str) -> None:
    assert _resolve(set(install.split(","))) & BUILDS == {build}


def test_every_makefile_install_brings_exactly_one_build() -> None:
    installs = re.findall(r"-e '\.\[([^\]]+)\]'", (REPO / "Makefile").read_text(encoding="utf-8"))
    assert installs, "the Makefile installs no extras"
    for install in installs:
        if install != "bundle":  # added on top of the game's venv
            assert len(_resolve(set(install.split(","))) & BUILDS) == 1, f".[{install}]"


def test_a_headless_training_box_needs_no_qt() -> None:
    assert _resolve({"train", "cpu"}) & QT == set()
    assert _resolve({"trainer-gui"}) >= QT | {"optuna", "torch"}


def test_the_cpu_and_gpu_games_differ_only_in_the_build() -> None:
    assert _resolve({"game"}) - {"onnxruntime"} == _resolve({"gpu"}) - {"onnxruntime-gpu"}


def test_running_a_model_without_onnxruntime_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from classifiers.runtime import preferred_providers

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if no build were installed
    with pytest.raises(MissingExtraError, match=r"pip install 'eyevsai\[cpu\]'"):
        preferred_providers()


def test_the_trainer_gui_without_qt_names_its_extra(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from trainer.gui.__main__ import main

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    # As if PySide6 were not installed, even when an earlier test imported it and the trainer GUI: hide every Qt
    # module (an import of one then fails) and forget the GUI modules, so importing the GUI runs its imports again.
    for name in [n for n in sys.modules if n.split(".")[0] in ("PySide6", "pyqtgraph", "qtsupport", "shiboken6")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "PySide6", None)
    for name in [n for n in sys.modules if n.startswith("trainer.gui.") and n != "trainer.gui.__main__"]:
        monkeypatch.delitem(sys.modules, name)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "eyevsai-trainer needs PySide6" in err and "pip install 'eyevsai[trainer-gui,cpu]'" in err


@pytest.mark.slow
def test_a_wheel_installs_only_the_projects_packages_and_carries_the_assets(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: building in place would leave build/ and *.egg-info in the checkout
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info"))
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, source], check=True)
    (wheel,) = wheels.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level <= OWN_PACKAGES and {"classifiers", "desktop", "trainer", "sync_server"} <= top_level
    bundled = {Path(name).relative_to("classifiers/assets") for name in names if name.startswith("classifiers/assets/")}
    in_repo = {path.relative_to(REPO / "assets") for path in (REPO / "assets").rglob("*") if path.is_file()}
    assert bundled == in_repo

    target = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "-q", "--target", target, wheel], check=True)
    found = subprocess.run(
        [sys.executable, "-c", "from classifiers.locations import bundled_assets_dir; print(bundled_assets_dir())"],
        env={"PYTHONPATH": str(target), "PATH": ""},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(found.stdout.strip()) == target / "classifiers" / "assets"
