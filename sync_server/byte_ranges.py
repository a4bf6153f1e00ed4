"""HTTP conditional and range requests on immutable files (RFC 9110 §13, §14), as pure functions.

A file served by its SHA-256 never changes, so its ETag is the hash, a matching If-None-Match is always a 304, and
a client resumes a cut download with `Range: bytes=N-`. One range per request: several ranges, or a Range header
that does not parse, are ignored (the whole file, 200), as RFC 9110 allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """The one range asked for lies wholly past the end of the file (answer 416)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as Content-Range writes it

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, total: int) -> str:
        return f"bytes {self.start}-{self.end}/{total}"


def etag_of(sha256: str) -> str:
    return f'"{sha256}"'


def matches_etag(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (weak comparison: W/"x" matches "x"), or is `*`."""
    if not header:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


def parse_range(header: str | None, total: int, *, if_range: str | None = None, etag: str = "") -> ByteRange | None:
    """The one byte range a request asks for, or None for the whole file.

    Args:
        header: the Range header. Ignored when absent, malformed, or naming several ranges.
        total: the file's size.
        if_range: the If-Range header; a value other than this file's ETag means "the whole file".

    Raises:
        RangeNotSatisfiable: the range starts at or past the end (or is an empty suffix).
    """
    if not header or (if_range is not None and if_range.strip() != etag):
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or total == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(0, total - suffix), total - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # syntactically invalid: ignore the header
    if start >= total:
        raise RangeNotSatisfiable
    return ByteRange(start, min(int(last) if last else total - 1, total - 1))
