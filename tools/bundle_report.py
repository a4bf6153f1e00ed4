"""`make bundle`'s size report: the bundle's size and its ten largest parts, and a limit it must not pass.

    python tools/bundle_report.py dist/eyevsai --limit-mb 300

A part is a top-level entry of the bundle's `_internal` folder (a package such as `cv2`, or a library); Qt's
libraries and plugins are listed one by one, being most of PySide6. Sizes count regular files only (PyInstaller
links libraries into `_internal` by symbolic links), in MB of 10^6 bytes.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

MB = 10**6


def _part(relative: Path) -> str:
    parts = relative.parts
    if parts[:3] == ("_internal", "PySide6", "Qt") and len(parts) > 4:
        return "/".join(parts[1:5])
    return "/".join(parts[:2])


def part_sizes(bundle: Path) -> Counter[str]:
    """Bytes per part of the bundle folder, symbolic links not counted."""
    sizes: Counter[str] = Counter()
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            sizes[_part(path.relative_to(bundle))] += path.stat().st_size
    return sizes


def report(bundle: Path, top: int = 10) -> tuple[int, list[str]]:
    """(total bytes, the report's lines)."""
    sizes = part_sizes(bundle)
    total = sum(sizes.values())
    lines = [f"bundle size: {total / MB:.1f} MB ({bundle})", f"its {top} largest parts:"]
    lines += [f"  {size / MB:7.1f} MB  {name}" for name, size in sizes.most_common(top)]
    return total, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="The bundle folder, e.g. dist/eyevsai")
    parser.add_argument("--limit-mb", type=float, default=None, help="Fail when the bundle is bigger than this")
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        print(f"bundle_report: {args.bundle} is not a folder", file=sys.stderr)
        return 2
    total, lines = report(args.bundle)
    print("\n".join(lines))
    if args.limit_mb is not None and total > args.limit_mb * MB:
        print(f"bundle_report: {total / MB:.1f} MB is over the {args.limit_mb:g} MB limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
