"""The content store of published pack and model files: each file named by the SHA-256 of its bytes.

Two backends with one interface: `DiskStore` (a directory, `<root>/ab/<sha256>`, the default) and `S3Store` (an
S3-compatible bucket, `<prefix>ab/<sha256>`, shared by every server host). A stored file never changes (its name
is its content), so writing one twice is a no-op and a reader never sees half of one; nothing is ever deleted, so
a client half-way through a download keeps getting the bytes it started with even after a re-publish.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from classifiers.card import file_sha256
from classifiers.errors import EyeVsAIError

CHUNK = 256 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StoreError(EyeVsAIError):
    """The store cannot keep or give back a file (unreachable bucket, full disk, a file that is not what it says)."""


class ContentStore(Protocol):
    """Files by SHA-256: `put` a local file, ask its `size` (None: absent), read a byte range."""

    def put(self, path: Path, sha256: str) -> None: ...

    def size(self, sha256: str) -> int | None: ...

    def read(self, sha256: str, start: int, length: int) -> Iterator[bytes]: ...


def check_sha256(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise StoreError(f"{sha256!r} is not a SHA-256 (64 lowercase hex digits).")
    return sha256


def _key(sha256: str) -> str:
    return f"{sha256[:2]}/{check_sha256(sha256)}"


class DiskStore:
    """A directory of files named `<first two hex>/<sha256>`, written through a temporary file and a rename."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"DiskStore({str(self.root)!r})"

    def put(self, path: Path, sha256: str) -> None:
        target = self.root / _key(sha256)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{sha256}.{secrets.token_hex(4)}.tmp")
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as source, open(tmp, "wb") as out:
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256:
                raise StoreError(f"{path} changed while it was being stored (its SHA-256 is no longer {sha256[:12]}…).")
            tmp.replace(target)
        except OSError as exc:
            raise StoreError(f"Could not store {path} in {self.root} ({exc.strerror or exc}).") from exc
        finally:
            tmp.unlink(missing_ok=True)

    def size(self, sha256: str) -> int | None:
        try:
            return (self.root / _key(sha256)).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, sha256: str, start: int, length: int) -> Iterator[bytes]:
        try:
            handle = open(self.root / _key(sha256), "rb")  # noqa: SIM115 - closed by the generator
        except OSError as exc:
            raise StoreError(f"{self!r} cannot give back {sha256[:12]}… ({exc.strerror or exc}).") from exc
        handle.seek(start)
        return _chunks(handle, length)


def _chunks(handle: BinaryIO, length: int) -> Iterator[bytes]:
    with handle:
        left = length
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


class S3Store:
    """An S3-compatible bucket (AWS S3, MinIO, Ceph, moto) through boto3; objects `<prefix><ab>/<sha256>`."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def __repr__(self) -> str:
        return f"S3Store(s3://{self.bucket}/{self.prefix})"

    def _object(self, sha256: str) -> str:
        return self.prefix + _key(sha256)

    def put(self, path: Path, sha256: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # lazy: boto3 (the S3 store only)

        if self.size(sha256) is not None:
            return
        try:
            if file_sha256(path) != sha256:
                raise StoreError(f"{path} changed while it was being stored (its SHA-256 is no longer {sha256[:12]}…).")
            # One PUT per file (no multipart) so S3 also checks the bytes it receives against the SHA-256 we send.
            checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
            with open(path, "rb") as body:
                self.client.put_object(Bucket=self.bucket, Key=self._object(sha256), Body=body, ChecksumSHA256=checksum)
        except (BotoCoreError, ClientError, OSError) as exc:
            raise StoreError(f"Could not store {path} in {self!r} ({exc}).") from exc

    def size(self, sha256: str) -> int | None:
        from botocore.exceptions import BotoCoreError, ClientError  # lazy: boto3

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._object(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StoreError(f"Could not reach {self!r} ({exc}).") from exc
        except BotoCoreError as exc:
            raise StoreError(f"Could not reach {self!r} ({exc}).") from exc
        return int(head["ContentLength"])

    def read(self, sha256: str, start: int, length: int) -> Iterator[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError  # lazy: boto3

        if length <= 0:
            return iter(())
        try:  # opened here, not in the generator: a missing object or a dead bucket is known before answering
            answer = self.client.get_object(
                Bucket=self.bucket, Key=self._object(sha256), Range=f"bytes={start}-{start + length - 1}"
            )
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"{self!r} cannot give back {sha256[:12]}… ({exc}).") from exc
        return _body_chunks(answer["Body"])


def _body_chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def open_store(settings: Any) -> ContentStore:
    """The store the settings name (sync_server.settings.StorageSettings): the disk by default, or S3."""
    storage = settings.storage
    if storage.backend == "disk":
        return DiskStore(settings.resolved_storage_dir())
    import boto3  # lazy: boto3 (the S3 store only)
    from botocore.config import Config  # lazy: boto3

    options: dict[str, Any] = {
        "config": Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)
    }
    if storage.endpoint_url:
        options["endpoint_url"] = storage.endpoint_url
    if storage.region:
        options["region_name"] = storage.region
    if storage.access_key_id:
        options["aws_access_key_id"] = storage.access_key_id
        options["aws_secret_access_key"] = storage.secret_access_key
    return S3Store(boto3.client("s3", **options), storage.bucket, storage.prefix)
