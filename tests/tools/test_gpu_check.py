"""`make gpu-check` on a machine without an NVIDIA GPU: it says so, builds nothing and exits 0."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tools import gpu_check


def test_without_nvidia_smi_it_says_so_and_exits_0(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(gpu_check.shutil, "which", lambda name: None)
    monkeypatch.setattr(gpu_check, "ensure_gpu_venv", lambda: pytest.fail("no environment is built without a GPU"))
    assert gpu_check.main([]) == 0
    assert "no NVIDIA GPU" in capsys.readouterr().out


def test_an_nvidia_smi_that_lists_no_gpu_counts_as_none(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'No devices were found'\nexit 9\n")
    smi.chmod(0o755)
    monkeypatch.setattr(gpu_check.shutil, "which", lambda name: str(smi))
    assert gpu_check.gpu_names() == []


def test_the_script_runs_as_make_calls_it() -> None:
    run = subprocess.run(
        [sys.executable, "tools/gpu_check.py"], cwd=gpu_check.REPO, capture_output=True, text=True, timeout=60
    )
    if gpu_check.gpu_names():
        pytest.skip("this machine has a GPU: the check itself would run")
    assert run.returncode == 0, run.stderr
    assert "nothing to check" in run.stdout
