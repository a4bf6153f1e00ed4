"""The content store: the disk store, and the S3 store against a real S3-compatible server (moto) on loopback."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_server.admin import run_publish
from sync_server.pack_store import DiskStore, S3Store, StoreError, open_store
from sync_server.settings import StorageSettings
from tests.sync_server.publish_dirs import make_publish_dir

BUCKET = "eyevsai-test"
KEYS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto S3 server on a free loopback port for this module's tests."""
    executable = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if executable is None:
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    server = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto_server did not start within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_settings(moto_url: str, request: pytest.FixtureRequest) -> StorageSettings:
    """Storage settings for a fresh bucket on the moto server."""
    settings = StorageSettings(
        backend="s3",
        bucket=f"{BUCKET}-{request.node.name[:20].lower().replace('_', '-')}",
        endpoint_url=moto_url,
        prefix="files/",
        **KEYS,
    )
    store = open_store(type("S", (), {"storage": settings})())
    store.client.create_bucket(Bucket=settings.bucket)
    return settings


def _blob(tmp_path: Path, data: bytes) -> tuple[Path, str]:
    path = tmp_path / "blob"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def _exercise(store, tmp_path: Path) -> None:  # noqa: ANN001 - DiskStore | S3Store
    data = os.urandom(700_000)
    path, sha = _blob(tmp_path, data)
    assert store.size(sha) is None
    store.put(path, sha)
    store.put(path, sha)  # again: a no-op
    assert store.size(sha) == len(data)
    assert b"".join(store.read(sha, 0, len(data))) == data
    assert b"".join(store.read(sha, 1000, 300_000)) == data[1000:301_000]
    assert b"".join(store.read(sha, len(data) - 5, 5)) == data[-5:]
    with pytest.raises(StoreError):
        store.read("0" * 64, 0, 10)
    with pytest.raises(StoreError):
        store.size("../etc/passwd")


def test_the_disk_store_keeps_files_by_hash(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "files")
    _exercise(store, tmp_path)
    assert [p.parent.name for p in (tmp_path / "files").rglob("*") if p.is_file()] and not list(
        (tmp_path / "files").rglob("*.tmp")
    )


def test_the_disk_store_refuses_a_file_that_is_not_what_its_hash_says(tmp_path: Path) -> None:
    path, _ = _blob(tmp_path, b"some bytes")
    with pytest.raises(StoreError, match="changed while it was being stored"):
        DiskStore(tmp_path / "files").put(path, hashlib.sha256(b"other").hexdigest())
    assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]


def test_the_s3_store_keeps_files_by_hash(s3_settings: StorageSettings, tmp_path: Path) -> None:
    store = open_store(type("S", (), {"storage": s3_settings})())
    assert isinstance(store, S3Store)
    _exercise(store, tmp_path)
    path, sha = _blob(tmp_path, b"checked by the bucket")
    with pytest.raises(StoreError, match="changed while it was being stored"):
        store.put(path, hashlib.sha256(b"not these bytes").hexdigest())


def test_a_pack_published_to_s3_is_served_from_it(
    s3_settings: StorageSettings, tmp_path: Path, make_settings, make_client
) -> None:
    settings = make_settings(storage=s3_settings)
    run_publish(settings, make_publish_dir(tmp_path / "out"))
    assert not (tmp_path / "data" / "files").exists()  # nothing on this host's disk
    # Another host (a second app on the same database and bucket) serves it.
    api = make_client(storage=s3_settings)
    files = api.get("/api/v1/downloads/packs/fashion-mnist/manifest").json()["files"]
    onnx = next(f for f in files if f["path"].endswith("model.onnx"))
    url = f"/api/v1/downloads/files/{onnx['sha256']}"
    head = api.get(url, headers={"Range": "bytes=0-999"}).content
    rest = api.get(url, headers={"Range": "bytes=1000-"})
    assert rest.status_code == 206 and hashlib.sha256(head + rest.content).hexdigest() == onnx["sha256"]
    # The bucket losing an object is an outage to retry, not a server error.
    store = open_store(settings)
    store.client.delete_object(Bucket=s3_settings.bucket, Key=store._object(onnx["sha256"]))
    lost = api.get(url)
    assert lost.status_code == 503 and lost.headers["retry-after"] == "5"


def test_s3_settings_need_a_bucket() -> None:
    with pytest.raises(ValueError, match="needs EYEVSAI_SERVER_STORAGE__BUCKET"):
        StorageSettings(backend="s3")
