"""Publish-pack on the real server, then the game's download end to end: a SIGKILLed download resumes with range
requests, a file tampered with on the server is refused and nothing is half-installed, removal is one call."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from keyring.backends.fail import Keyring as NoKeyring

from classifiers.progress import run_to_end
from desktop.app import content_roots
from desktop.services.catalog import load_catalog
from desktop.services.downloads import (
    TamperedDownload,
    download_pack,
    installed_downloads,
    partial_dir,
    partial_downloads,
    remove_pack,
)
from desktop.services.online.client import ServerClient
from desktop.services.online.tokens import TokenStore
from tests.desktop.online.server import LiveServer
from tests.helpers.catalog_packs import make_published_pack

ROOT = Path(__file__).resolve().parents[3]
# The child downloads like a slow line (a pause after every chunk) and says how far it is, so the test can kill it
# in the middle of a model's ONNX file.
CHILD = """
import sys, time
from pathlib import Path
from keyring.backends.fail import Keyring
from classifiers.progress import run_to_end
from desktop.services.downloads import download_pack
from desktop.services.online.client import ServerClient
from desktop.services.online.tokens import TokenStore
url, data, pack = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
client = ServerClient(url, TokenStore(url, data, backend=Keyring()))
def slowly(event):
    print(event.file, event.done_bytes, event.total_bytes, flush=True)
    time.sleep(0.05)
run_to_end(download_pack(client, data, pack), slowly)
print("installed", flush=True)
"""


class RangeSpy(ServerClient):
    """The real client, remembering where each file request started."""

    starts: list[int]

    @contextmanager
    def catalog_file(self, sha256: str, *, start: int = 0) -> Iterator:
        self.starts.append(start)
        with super().catalog_file(sha256, start=start) as body:
            yield body


def publish(live_server: LiveServer, tmp: Path, pack_id: str, *, models: int = 2, images: int = 40) -> Path:
    from sync_server.admin import run_publish

    folder = make_published_pack(
        tmp / f"publish-{pack_id}", pack_id, title=pack_id.title(), images=images, models=models
    )
    run_publish(live_server.app_state.settings, folder)
    return folder


def client_for(live_server: LiveServer, data: Path) -> RangeSpy:
    client = RangeSpy(live_server.url, TokenStore(live_server.url, data, backend=NoKeyring()))
    client.starts = []
    return client


def _installed(data: Path, pack_id: str) -> bool:
    return (data / "packs" / pack_id).exists() or any((data / "models").glob(f"{pack_id}-*"))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_a_download_killed_mid_file_resumes_and_installs(live_server: LiveServer, tmp_path: Path) -> None:
    publish(live_server, tmp_path, "kill-fashion")
    data = tmp_path / "game"
    listed = {p["id"]: p for p in client_for(live_server, data).catalog_packs()}
    assert listed["kill-fashion"]["models"] and listed["kill-fashion"]["samples"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, live_server.url, str(data), "kill-fashion"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    try:
        for line in child.stdout:
            seen.append(line)
            path, *_ = line.split()
            if path.endswith("model.onnx"):  # a chunk of the ONNX is on disk, the rest is not
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL, "".join(seen[-5:])
    assert "kill-fashion" in partial_downloads(data) and not _installed(data, "kill-fashion")
    assert list(partial_dir(data, "kill-fashion").rglob("model.onnx.part"))

    client = client_for(live_server, data)
    installed = run_to_end(download_pack(client, data, "kill-fashion"))
    assert any(start > 0 for start in client.starts)  # the cut ONNX file went on with a range request
    assert len(client.starts) < len(live_server_files(data, installed.folders))  # finished files came not again
    played = load_catalog(content_roots(data))
    assert "kill-fashion" in {p.id for p in played.playable_packs()}
    assert len(played.opponents_for("kill-fashion")) == 2
    client.close()


def live_server_files(data: Path, folders: tuple[str, ...]) -> list[Path]:
    return [p for folder in folders for p in (data / folder).rglob("*") if p.is_file()]


def test_a_file_tampered_with_on_the_server_is_refused(live_server: LiveServer, tmp_path: Path) -> None:
    folder = publish(live_server, tmp_path, "bad-fashion", models=1, images=12)
    onnx = next((folder / "models").glob("*/model.onnx"))
    from classifiers.card import file_sha256

    stored = live_server.app_state.content_store.root / _store_key(file_sha256(onnx))
    original = stored.read_bytes()
    data = tmp_path / "game"
    client = client_for(live_server, data)
    try:
        stored.write_bytes(original[:100] + bytes([original[100] ^ 0xFF]) + original[101:])
        with pytest.raises(TamperedDownload, match="SHA-256"):
            run_to_end(download_pack(client, data, "bad-fashion"))
    finally:
        stored.write_bytes(original)
    assert not _installed(data, "bad-fashion")
    assert "bad-fashion" not in load_catalog(content_roots(data)).packs
    run_to_end(download_pack(client, data, "bad-fashion"))  # once the server is right again, it installs
    assert "bad-fashion" in {p.id for p in load_catalog(content_roots(data)).playable_packs()}
    remove_pack(data, "bad-fashion")
    assert not _installed(data, "bad-fashion") and not installed_downloads(data)
    client.close()


def _store_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


def test_the_client_resumes_a_file_with_a_range_and_restarts_one_past_its_end(
    live_server: LiveServer, tmp_path: Path
) -> None:
    from classifiers.card import file_sha256

    folder = publish(live_server, tmp_path, "range-fashion", models=1, images=4)
    onnx = next((folder / "models").glob("*/model.onnx"))
    whole, sha256 = onnx.read_bytes(), file_sha256(onnx)
    client = client_for(live_server, tmp_path / "game")
    with client.catalog_file(sha256, start=1000) as (offset, chunks):
        assert (offset, b"".join(chunks)) == (1000, whole[1000:])
    with client.catalog_file(sha256, start=len(whole) + 5) as (offset, chunks):  # 416: the whole file again
        assert (offset, b"".join(chunks)) == (0, whole)
    client.close()
