"""Slimming the game bundle's shared libraries on Linux (used by build.spec; needs binutils, and gcc for stubs).

Three steps on PyInstaller's binaries TOC, each one safe to skip (the bundle is then only bigger):

- **stubs**: a library that a kept binary links but the game never calls (OpenCV's FFmpeg, AVIF and OpenBLAS,
  Qt's ICU data) is replaced by a tiny library with the same soname that defines the same symbols (and symbol
  versions). The binary still loads; calling a stubbed function prints its name and aborts.
- **prune**: libraries that only removed or stubbed files needed (FFmpeg's codecs, the GTK theme's Pango and
  Cairo) are dropped, with the symbolic links that point at them.
- **strip**: symbol tables are stripped from libraries that carry them, except auditwheel's patched ones (in a
  `*.libs` folder or with an rpath into one): `strip` corrupts their program headers ("ELF load command
  address/offset not page-aligned").
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath

Toc = list[tuple[str, str, str]]
LIBRARY_CODES = ("BINARY", "EXTENSION")
# ICU's own "stubdata" (icu4c/source/stubdata): an empty common-data package, so ICU answers "no data" (an error
# code Qt checks) instead of refusing a malformed header. Little-endian, ASCII, 2-byte UChar; 48 bytes.
ICU_EMPTY_PACKAGE = "32,0,0xda,0x27,20,0,0,0,0,0,2,0,'T','o','C','P',1,0,0,0" + ",0" * 28
STUB_INITIALISERS = {"icudt*_dat": ICU_EMPTY_PACKAGE}


def _tool(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def needed(path: str) -> list[str]:
    """The DT_NEEDED sonames of an ELF file (empty for anything else)."""
    if not _is_elf(path):
        return []
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", _tool("readelf", "-dW", path))


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(4) == b"\x7fELF"
    except OSError:
        return False


def _dynamic_symbols(path: str) -> list[tuple[str, str, int, str, bool]]:
    """(name, type, size, version, defined) of every global or weak dynamic symbol."""
    symbols = []
    for line in _tool("readelf", "-W", "--dyn-syms", path).splitlines():
        parts = line.split()
        if len(parts) < 8 or not parts[0].endswith(":") or parts[4] not in ("GLOBAL", "WEAK"):
            continue
        name, _, version = parts[7].replace("@@", "@").partition("@")
        size = int(parts[2], 16) if parts[2].startswith("0x") else int(parts[2])
        symbols.append((name, parts[3], size, version, parts[6] not in ("UND", "ABS")))
    return symbols


def _stub_source(lib_name: str, symbols: list[tuple[str, str, int, str]]) -> str:
    lines = [
        "#include <stdio.h>",
        "#include <stdlib.h>",
        "static void missing(const char *name) {",
        f'    fprintf(stderr, "eyevsai: %s ({lib_name}) is not in this bundle (build.spec)\\n", name);',
        "    abort();",
        "}",
    ]
    for index, (name, kind, size, _) in enumerate(symbols):
        init = next((v for pattern, v in STUB_INITIALISERS.items() if fnmatch.fnmatchcase(name, pattern)), None)
        if kind in ("FUNC", "IFUNC"):
            lines.append(f'void f{index}(void) __asm__("{name}");')
            lines.append(f'void f{index}(void) {{ missing("{name}"); }}')
        elif kind in ("OBJECT", "TLS"):
            # Zero-filled (.bss, no room in the file) unless an initialiser is known; the size only matters to
            # copy relocations, which shared libraries do not make.
            tls = "__thread " if kind == "TLS" else ""
            length = init.count(",") + 1 if init else max(size, 8)
            value = f" = {{{init}}}" if init else ""
            lines.append(
                f'{tls}__attribute__((aligned(16))) unsigned char d{index}[{length}] __asm__("{name}"){value};'
            )
    return "\n".join(lines) + "\n"


def make_stub(lib: str, users: Iterable[str], out_dir: Path) -> Path:
    """A library with lib's soname defining what `users` import from it (same symbol versions), built with gcc."""
    soname = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", _tool("readelf", "-dW", lib))
    soname = soname.group(1) if soname else Path(lib).name
    wanted = {name for user in users for name, _, _, _, defined in _dynamic_symbols(user) if not defined}
    symbols = sorted({(n, k, s, v) for n, k, s, v, d in _dynamic_symbols(lib) if d and n in wanted})
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / f"{soname}.c"
    source.write_text(_stub_source(soname, symbols), encoding="utf-8")
    command = [
        "gcc",
        "-shared",
        "-fPIC",
        "-O1",
        "-w",
        "-o",
        str(out_dir / soname),
        str(source),
        f"-Wl,-soname,{soname}",
    ]
    versions = sorted({version for _, _, _, version in symbols if version})
    if versions:
        script = out_dir / f"{soname}.map"
        nodes = [f"{v} {{ global: {' '.join(n + ';' for n, _, _, sv in symbols if sv == v)} }};" for v in versions]
        unversioned = [n for n, _, _, sv in symbols if not sv]
        nodes[0] = nodes[0].replace("global: ", f"global: {' '.join(n + ';' for n in unversioned)} ", 1)
        script.write_text("\n".join(nodes) + "\n", encoding="utf-8")
        command.append(f"-Wl,--version-script={script}")
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out_dir / soname


def _strippable(dest: str, src: str) -> bool:
    if any(part.endswith(".libs") for part in PurePosixPath(dest).parts[:-1]) or not _is_elf(src):
        return False
    dynamic = _tool("readelf", "-dW", src)
    if re.search(r"R(UN)?PATH\).*\.libs", dynamic):
        return False
    return ".symtab" in _tool("readelf", "-SW", src)


def _strip(dest: str, src: str, out_dir: Path) -> str:
    target = out_dir / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    subprocess.run(["strip", "--strip-unneeded", str(target)], check=True, capture_output=True)
    return str(target)


def _closure(start: Iterable[str], deps: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(deps.get(name, []))
    return seen


def slim(binaries: Toc, removed: Toc, stubs: Mapping[str, str], work: Path, log: Callable[[str], None] = print) -> Toc:
    """binaries after stubbing, pruning and stripping (see the module docstring); unchanged off Linux.

    removed: entries already taken out (dropped Qt plugins), whose own dependencies may go too; stubs: basename
    pattern -> why the game never calls that library."""
    if not sys.platform.startswith("linux") or not shutil.which("readelf"):
        log("bundle_slim: not Linux or no binutils: the shared libraries are bundled as they are")
        return binaries
    libs = {PurePosixPath(dest).name: (dest, src) for dest, src, code in binaries if code in LIBRARY_CODES}
    deps = {name: [n for n in needed(src) if n in libs] for name, (_, src) in libs.items()}
    gone = {PurePosixPath(dest).name: src for dest, src, code in removed if code in LIBRARY_CODES}
    replaced: dict[str, str] = {}
    stubbed = [name for name in libs if any(fnmatch.fnmatchcase(name, pattern) for pattern in stubs)]
    if stubbed and not shutil.which("gcc"):
        log("bundle_slim: no gcc: OpenCV's and Qt's unused libraries are bundled in full")
        stubbed = []
    for name in stubbed:
        users = [libs[user][1] for user, user_deps in deps.items() if name in user_deps and user not in stubbed]
        replaced[name] = str(make_stub(libs[name][1], users, work / "stubs"))
        gone[name] = libs[name][1]
        deps[name] = []
    removed_deps = {name: [n for n in needed(src) if n in libs] for name, src in gone.items()}
    candidates = _closure(removed_deps, {**deps, **removed_deps}) - set(gone) - set(replaced)
    kept_roots = [name for name in libs if name not in candidates]
    dropped = candidates - _closure(kept_roots, deps)
    log(f"bundle_slim: stubbed {sorted(replaced)}; dropped {sorted(dropped)}")
    dropped_dests = {libs[name][0] for name in dropped}
    result: Toc = []
    for dest, src, code in binaries:
        name = PurePosixPath(dest).name
        target = posixpath.normpath(posixpath.join(posixpath.dirname(dest), src)) if code == "SYMLINK" else dest
        if target in dropped_dests:
            continue
        if code in LIBRARY_CODES and name in replaced:
            src = replaced[name]
        elif code in LIBRARY_CODES and _strippable(dest, src):
            src = _strip(dest, src, work / "stripped")
        result.append((dest, src, code))
    return result
