"""Resumable, verified HTTP downloads for the pack recipes, streamed as Progress events (bytes, rate, ETA).

A file is written to `<dest>.part` and renamed to `<dest>` only once its checksum matches, so a finished name is
always a verified file. A cut connection is retried from where it stopped (an HTTP Range request); when the
retries run out the `.part` file stays, and the next run resumes it. A checksum mismatch deletes it: those bytes
are wrong, and resuming onto them would never succeed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from classifiers.errors import EyeVsAIError
from classifiers.progress import Progress

CHUNK = 1 << 20
PROGRESS_EVERY_S = 0.25  # a rich bar refreshes ~10x a second; more events only cost time
PART_SUFFIX = ".part"
RETRY_WAIT_S = 1.0  # times the attempt number: 1 s, 2 s, 3 s between resumed attempts


class DownloadError(EyeVsAIError):
    """A download failed: offline, refused by the server, cut too often, or not the published file."""


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch and the checksums it must match (None: none published; its hashes are recorded)."""

    name: str
    url: str
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class FetchedFile:
    """A verified file on disk, with the digests to record in a pack's manifest."""

    path: Path
    size: int
    md5: str
    sha256: str


def file_digests(path: Path) -> tuple[str, str]:
    """(md5, sha256) of a file, read in chunks (archives are hundreds of megabytes)."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest()


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_file(
    remote: RemoteFile,
    dest: Path,
    *,
    client: httpx.Client | None = None,
    retries: int = 3,
    retry_wait_s: float | None = None,
) -> Generator[Progress, None, FetchedFile]:
    """Download `remote` to `dest` (resuming `dest.part`), verify it, and return its digests.

    A `dest` that already exists and matches the checksums is not downloaded again.

    Raises:
        DownloadError: no connection, an HTTP error status, too many cut connections, or a checksum mismatch.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_file():
        done = _verified(remote, dest)
        if done is not None:
            yield Progress(remote.name, done.size, done.size, f"{remote.name}: already downloaded")
            return done
        dest.unlink()  # a stale or damaged earlier download: fetch it again
    part = dest.with_name(dest.name + PART_SUFFIX)
    own_client = client is None
    client = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, connect=15.0))
    try:
        for attempt in range(retries + 1):
            try:
                yield from _stream(client, remote, part)
                break
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
                if attempt == retries:
                    have = part.stat().st_size if part.exists() else 0
                    raise DownloadError(
                        f"The connection to {_host(remote.url)} kept breaking while downloading {remote.name} "
                        f"({exc or type(exc).__name__}); {human_bytes(have)} are kept in {part}. "
                        "Rerun the same command to resume."
                    ) from exc
                time.sleep((RETRY_WAIT_S if retry_wait_s is None else retry_wait_s) * (attempt + 1))
    finally:
        if own_client:
            client.close()
    fetched = _verified(remote, part)
    if fetched is None:
        md5, sha256 = file_digests(part)
        part.unlink()
        expected, got = (f"MD5 {remote.md5}", md5) if remote.md5 else (f"SHA-256 {remote.sha256}", sha256)
        raise DownloadError(
            f"{remote.name} from {remote.url} does not match its published checksum ({expected}, got {got}); "
            "the download was deleted. Rerun to fetch it again; if it fails again the server's file has changed."
        )
    part.replace(dest)
    return FetchedFile(dest, fetched.size, fetched.md5, fetched.sha256)


def _verified(remote: RemoteFile, path: Path) -> FetchedFile | None:
    """The file's digests when they match every published checksum, else None."""
    md5, sha256 = file_digests(path)
    if (remote.md5 and md5 != remote.md5.lower()) or (remote.sha256 and sha256 != remote.sha256.lower()):
        return None
    return FetchedFile(path, path.stat().st_size, md5, sha256)


def _stream(client: httpx.Client, remote: RemoteFile, part: Path) -> Generator[Progress, None, None]:
    """Append the rest of the file to `part`, asking for the missing bytes only."""
    start = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={start}-"} if start else {}
    try:
        with client.stream("GET", remote.url, headers=headers) as response:
            if response.status_code == 416 and start:
                return  # the part already holds the whole file: verification decides
            _check_status(remote, response)
            if response.status_code != 206 or _range_start(response) != start:
                start = 0  # the server sent the whole file (or another range): start over
            total = _total_size(response, start)
            with part.open("ab" if start else "wb") as out:
                yield from _copy_body(remote.name, response, out, start, total)
    except httpx.ConnectError as exc:
        raise DownloadError(
            f"Could not connect to {_host(remote.url)} to download {remote.name} ({exc}). Check the internet "
            "connection (or proxy settings) and rerun; a partial download resumes where it stopped."
        ) from exc
    except httpx.ConnectTimeout as exc:
        raise DownloadError(f"{_host(remote.url)} did not answer (connection timed out); rerun later.") from exc


def _copy_body(name: str, response: httpx.Response, out, start: int, total: int) -> Generator[Progress, None, None]:
    done, began, last = start, time.monotonic(), 0.0
    for block in response.iter_raw():  # as received: a sized chunk would lose its buffer when the link breaks
        out.write(block)
        done += len(block)
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S or done == total:
            last = now
            yield Progress(name, done, total, _rate_line(name, done - start, done, total, now - began))
    out.flush()
    if total and done < total:  # a server that closes early without a protocol error
        raise httpx.RemoteProtocolError(f"the server closed the connection after {done} of {total} bytes")


def _rate_line(name: str, fresh: int, done: int, total: int, elapsed: float) -> str:
    rate = fresh / elapsed if elapsed > 0 else 0.0
    line = f"{name}: {human_bytes(done)}" + (f" of {human_bytes(total)}" if total else "")
    if rate > 0:
        line += f", {human_bytes(rate)}/s"
        if total:
            line += f", ETA {int((total - done) / rate)} s"
    return line


def _check_status(remote: RemoteFile, response: httpx.Response) -> None:
    if response.status_code in (200, 206):
        return
    if response.status_code == 404:
        raise DownloadError(
            f"{remote.url} answered 404 Not Found: the file has moved or the --base-url is wrong. "
            "Check the recipe's source page (eyevsai-train pack fetch --list)."
        )
    raise DownloadError(
        f"{remote.url} answered {response.status_code} {response.reason_phrase}; rerun later, or check the URL."
    )


def _range_start(response: httpx.Response) -> int | None:
    """The first byte of a 206 answer ('Content-Range: bytes START-END/TOTAL')."""
    value = response.headers.get("content-range", "")
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _total_size(response: httpx.Response, start: int) -> int:
    """The whole file's size, or 0 when the server does not say."""
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else 0
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else 0


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
