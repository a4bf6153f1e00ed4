"""tools/bundle_slim.py: a stub keeps a library's users loadable and says which function the bundle left out;
tools/bundle_report.py: the size counts files once and fails over the limit."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import bundle_report
from tools.bundle_slim import make_stub, slim

needs_toolchain = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not (shutil.which("gcc") and shutil.which("readelf")),
    reason="stubs are built on Linux with gcc and binutils",
)


def _build(tmp: Path, name: str, source: str, *args: str) -> Path:
    (tmp / f"{name}.c").write_text(source)
    out = tmp / name
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(tmp / f"{name}.c"), *args], check=True)
    return out


def _codec_and_user(tmp: Path) -> tuple[Path, Path]:
    """libcodec.so.1 (versioned symbols, a function and a table) and libuser.so, which links it."""
    (tmp / "codec.map").write_text("CODEC_1 { global: codec_open; codec_table; local: *; };\n")
    codec = _build(
        tmp,
        "libcodec.so.1",
        "int codec_table[4] = {1, 2, 3, 4};\n"
        "int codec_open(void) { return 7; }\n"
        "int codec_unused(void) { return 1; }\n",
        "-Wl,-soname,libcodec.so.1",
        f"-Wl,--version-script={tmp / 'codec.map'}",
    )
    user = _build(
        tmp,
        "libuser.so",
        "extern int codec_open(void);\nextern int codec_table[];\n"
        "int user_safe(void) { return 42; }\nint user_video(void) { return codec_open() + codec_table[0]; }\n",
        f"-L{tmp}",
        "-l:libcodec.so.1",
        "-Wl,-rpath,$ORIGIN",
    )
    return codec, user


@needs_toolchain
def test_a_stub_keeps_the_user_loadable_and_names_the_missing_function(tmp_path: Path) -> None:
    codec, user = _codec_and_user(tmp_path)
    stub = make_stub(str(codec), [str(user)], tmp_path / "stubs")
    codec.unlink()
    shutil.copy(stub, codec)  # the user finds the stub under the real library's name
    loaded = ctypes.CDLL(str(user), mode=os.RTLD_NOW)  # every symbol and version resolves
    assert loaded.user_safe() == 42
    script = f"import ctypes; ctypes.CDLL({str(user)!r}).user_video()"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode != 0
    assert "codec_open (libcodec.so.1) is not in this bundle" in result.stderr
    assert "codec_unused" not in (tmp_path / "stubs" / "libcodec.so.1.c").read_text()  # nobody imports it


@needs_toolchain
def test_slim_replaces_stubbed_libraries_and_drops_what_only_they_needed(tmp_path: Path) -> None:
    codec, user = _codec_and_user(tmp_path)
    helper = _build(tmp_path, "libhelper.so.1", "int helper(void) { return 1; }\n", "-Wl,-soname,libhelper.so.1")
    codec = _build(  # the codec now needs the helper, which nothing else needs
        tmp_path,
        "libcodec.so.1",
        "extern int helper(void);\nint codec_table[4];\nint codec_open(void) { return helper(); }\n",
        "-Wl,-soname,libcodec.so.1",
        f"-L{tmp_path}",
        "-l:libhelper.so.1",
    )
    binaries = [
        ("libuser.so", str(user), "EXTENSION"),
        ("codec.libs/libcodec.so.1", str(codec), "BINARY"),
        ("codec.libs/libhelper.so.1", str(helper), "BINARY"),
        ("libhelper.so.1", "codec.libs/libhelper.so.1", "SYMLINK"),
    ]
    result = slim(binaries, removed=[], stubs={"libcodec.so.*": "never called"}, work=tmp_path / "work", log=print)
    assert [dest for dest, _, _ in result] == ["libuser.so", "codec.libs/libcodec.so.1"]
    assert Path(result[1][1]).parent == tmp_path / "work" / "stubs"


def test_the_report_counts_files_once_and_fails_over_the_limit(tmp_path: Path, capsys) -> None:
    internal = tmp_path / "eyevsai" / "_internal"
    (internal / "cv2").mkdir(parents=True)
    (internal / "cv2" / "cv2.so").write_bytes(b"x" * 2_000_000)
    (internal / "libcv2.so").symlink_to("cv2/cv2.so")  # PyInstaller's links are not counted again
    (tmp_path / "eyevsai" / "eyevsai").write_bytes(b"x" * 500_000)
    assert bundle_report.main([str(tmp_path / "eyevsai"), "--limit-mb", "3"]) == 0
    out = capsys.readouterr().out
    assert "bundle size: 2.5 MB" in out and "2.0 MB  _internal/cv2" in out
    assert bundle_report.main([str(tmp_path / "eyevsai"), "--limit-mb", "2"]) == 1
