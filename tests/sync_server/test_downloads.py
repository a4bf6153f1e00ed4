"""The download catalog: `publish-pack` then list, manifest and files by SHA-256 (ranges, ETags, 304, HEAD)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sync_server.admin import run_publish
from sync_server.settings import RateLimits
from tests.sync_server.helpers import ApiClient
from tests.sync_server.publish_dirs import make_publish_dir

API = "/api/v1/downloads"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def published(tmp_path: Path, make_settings, make_client) -> tuple[ApiClient, Path]:
    """A server whose catalog holds two packs: one with two models, one without."""
    source = make_publish_dir(tmp_path / "out")
    run_publish(make_settings(), source)
    run_publish(make_settings(), make_publish_dir(tmp_path / "out2", pack_id="mini", title="A mini pack", models=()))
    return make_client(), source


def _manifest(api: ApiClient, pack_id: str = "fashion-mnist") -> dict:
    response = api.get(f"{API}/packs/{pack_id}/manifest")
    assert response.status_code == 200, response.text
    return response.json()


def _one_file(api: ApiClient, suffix: str = ".onnx") -> dict:
    return next(f for f in _manifest(api)["files"] if f["path"].endswith(suffix))


def test_published_packs_are_listed_with_their_models_samples_and_sizes(published) -> None:
    api, source = published
    packs = api.get(f"{API}/packs").json()["packs"]
    assert [p["title"] for p in packs] == ["A mini pack", "Fashion-MNIST"]
    pack = packs[1]
    assert pack["licence"].startswith("MIT") and pack["images"] == 25 and len(pack["classes"]) == 10
    assert {m["id"] for m in pack["models"]} == {"fashion-mnist-shallow-logreg", "fashion-mnist-shallow-rf"}
    accuracies = [m["test_accuracy"] for m in pack["models"]]
    assert accuracies == sorted(accuracies, reverse=True)  # strongest first
    assert {m["difficulty"] for m in pack["models"]} <= {"easy", "medium", "hard"}
    onnx_bytes = sum((source / "models" / m["id"] / "model.onnx").stat().st_size for m in pack["models"])
    assert pack["download_bytes"] > pack["size_bytes"] + onnx_bytes - 1
    # Samples are previews the client can fetch: one per class first.
    assert len(pack["samples"]) == 8 and len({s["label"] for s in pack["samples"]}) == 8
    sample = api.get(pack["samples"][0]["url"])
    assert sample.status_code == 200 and hashlib.sha256(sample.content).hexdigest() == pack["samples"][0]["sha256"]
    assert sample.headers["content-type"] == "image/png"
    assert api.get(f"{API}/packs/mini").json()["models"] == []
    assert api.get(f"{API}/packs/nope").status_code == 404
    assert api.get(f"{API}/packs/nope/manifest").status_code == 404


def test_every_manifest_file_downloads_as_published(published) -> None:
    api, source = published
    manifest = _manifest(api)
    paths = [f["path"] for f in manifest["files"]]
    assert paths == sorted(paths) and "packs/fashion-mnist/pack.json" in paths
    assert "models/fashion-mnist-shallow-rf/model.onnx" in paths and not any("reports" in p for p in paths)
    assert manifest["total_bytes"] == sum(f["size"] for f in manifest["files"])
    for item in manifest["files"]:
        response = api.get(f"{API}/files/{item['sha256']}")
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == item["sha256"]
        assert len(response.content) == item["size"] == int(response.headers["content-length"])
    local = source / "models" / "fashion-mnist-shallow-rf" / "model.onnx"
    rf = next(f for f in manifest["files"] if f["path"] == "models/fashion-mnist-shallow-rf/model.onnx")
    assert api.get(f"{API}/files/{rf['sha256']}").content == local.read_bytes()
    assert rf["model_id"] == "fashion-mnist-shallow-rf"


def test_files_carry_immutable_caching_headers_and_head_has_no_body(published) -> None:
    api, _ = published
    item = _one_file(api)
    head = api.request("HEAD", f"{API}/files/{item['sha256']}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == f'"{item["sha256"]}"'
    assert head.headers["cache-control"] == IMMUTABLE and head.headers["accept-ranges"] == "bytes"
    assert int(head.headers["content-length"]) == item["size"]


def test_if_none_match_answers_304_so_a_file_is_never_downloaded_twice(published) -> None:
    api, _ = published
    item = _one_file(api)
    url, etag = f"{API}/files/{item['sha256']}", f'"{item["sha256"]}"'
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = api.get(url, headers={"If-None-Match": header})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert api.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_first_last_and_middle_ranges(published) -> None:
    api, _ = published
    item = _one_file(api)
    url, size = f"{API}/files/{item['sha256']}", item["size"]
    whole = api.get(url).content
    for header, start, end in (
        ("bytes=0-99", 0, 99),
        ("bytes=-100", size - 100, size - 1),
        ("bytes=500-1499", 500, 1499),
    ):
        part = api.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == whole[start : end + 1]
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert int(part.headers["content-length"]) == end - start + 1
        assert part.headers["etag"] == f'"{item["sha256"]}"' and part.headers["cache-control"] == IMMUTABLE
    # An end past the file is cut to the file; a HEAD with a range says what a GET would send.
    tail = api.get(url, headers={"Range": f"bytes={size - 10}-{size + 1000}"})
    assert tail.status_code == 206 and tail.content == whole[-10:]
    head = api.request("HEAD", url, headers={"Range": "bytes=0-9"})
    assert head.status_code == 206 and head.headers["content-length"] == "10" and head.content == b""


def test_a_cut_download_resumes_from_where_it_stopped(published) -> None:
    api, _ = published
    item = _one_file(api)
    url = f"{API}/files/{item['sha256']}"
    part = api.get(url, headers={"Range": "bytes=0-1233"}).content  # what arrived before the cut
    rest = api.get(url, headers={"Range": f"bytes={len(part)}-", "If-Range": f'"{item["sha256"]}"'})
    assert rest.status_code == 206
    assert hashlib.sha256(part + rest.content).hexdigest() == item["sha256"]
    # A .part that is already whole: nothing more to send.
    done = api.get(url, headers={"Range": f"bytes={item['size']}-"})
    assert done.status_code == 416 and done.headers["content-range"] == f"bytes */{item['size']}"
    assert api.get(url, headers={"Range": "bytes=-0"}).status_code == 416


def test_ranges_the_server_ignores_send_the_whole_file(published) -> None:
    api, _ = published
    item = _one_file(api)
    url = f"{API}/files/{item['sha256']}"
    for headers in ({"Range": "bytes=0-9, 20-29"}, {"Range": "items=0-9"}, {"Range": "bytes=9-0"}):
        answer = api.get(url, headers=headers)
        assert answer.status_code == 200 and len(answer.content) == item["size"], headers
    stale = api.get(url, headers={"Range": "bytes=10-", "If-Range": '"another-file"'})
    assert stale.status_code == 200 and len(stale.content) == item["size"]


def test_only_published_files_are_served(published) -> None:
    api, _ = published
    assert api.get(f"{API}/files/{'0' * 64}").status_code == 404
    assert api.request("HEAD", f"{API}/files/{'0' * 64}").status_code == 404
    assert api.get(f"{API}/files/not-a-hash").status_code == 422
    assert api.get(f"{API}/files/{'A' * 64}").status_code == 422


def test_files_have_their_own_rate_limit(tmp_path: Path, make_settings, make_client) -> None:
    settings = make_settings()
    run_publish(settings, make_publish_dir(tmp_path / "out"))
    api = make_client(rate_limits=RateLimits(per_ip=3, downloads_per_ip=6))
    url = f"{API}/files/{_one_file(api, '.json')['sha256']}"  # one request of the generic budget
    assert all(api.get(url).status_code == 200 for _ in range(6))  # more than per_ip allows
    refused = api.get(url)
    assert refused.status_code == 429 and "retry-after" in refused.headers


def test_publishing_again_replaces_the_entry(tmp_path: Path, make_settings, make_client) -> None:
    settings = make_settings()
    run_publish(settings, make_publish_dir(tmp_path / "out"))
    run_publish(settings, make_publish_dir(tmp_path / "again", models=("fashion-mnist-shallow-logreg",)))
    api = make_client()
    assert [m["id"] for m in api.get(f"{API}/packs/fashion-mnist").json()["models"]] == ["fashion-mnist-shallow-logreg"]
    assert not any("shallow-rf" in f["path"] for f in _manifest(api)["files"])
