"""The download catalog (public): published packs with their models, a pack's manifest, and files by SHA-256.

Files are immutable (named by their hash): every answer carries `ETag: "<sha256>"` and
`Cache-Control: public, max-age=31536000, immutable`, honours one byte range (206, or 416 past the end) and
If-None-Match (304), so a client resumes a cut download and never fetches a file twice.
"""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.responses import StreamingResponse

from sync_server import downloads
from sync_server.api.deps import AppStateDep, SessionDep, too_many_requests
from sync_server.api.errors import responses
from sync_server.byte_ranges import RangeNotSatisfiable, etag_of, matches_etag, parse_range
from sync_server.middleware import client_ip
from sync_server.models import DownloadModel, DownloadPack
from sync_server.pack_store import StoreError
from sync_server.schemas.common import PackId, Sha256
from sync_server.schemas.downloads import (
    DownloadModelPublic,
    DownloadPackList,
    DownloadPackPublic,
    Manifest,
    ManifestFile,
    SampleImage,
)

PREFIX = "/downloads"
router = APIRouter(prefix=PREFIX, tags=["downloads"])
FILES_PATH = f"{PREFIX}/files/"  # under the API prefix; counted by `downloads_per_ip`, not the generic IP limit
IMMUTABLE = "public, max-age=31536000, immutable"
NO_PACK = HTTPException(404, "No such pack")
NO_FILE = HTTPException(404, "No such file")


def _file_url(request: Request, sha256: str) -> str:
    return request.url_for("download_file", sha256=sha256).path


def _pack_public(request: Request, pack: DownloadPack, models: list[DownloadModel]) -> DownloadPackPublic:
    model_list = [
        DownloadModelPublic(
            id=m.id,
            title=m.title,
            family=m.family,
            variant=m.variant,
            difficulty=m.difficulty,
            test_accuracy=m.test_accuracy,
            macro_f1=m.macro_f1,
            size_bytes=m.size_bytes,
            onnx_sha256=m.onnx_sha256,
        )
        for m in models
    ]
    return DownloadPackPublic(
        id=pack.id,
        title=pack.title,
        version=pack.version,
        licence=pack.licence,
        source=pack.source,
        classes=list(pack.classes),
        image_size=pack.image_size,
        images=pack.images,
        size_bytes=pack.size_bytes,
        download_bytes=pack.size_bytes + sum(m.size_bytes for m in models),
        samples=[
            SampleImage(sha256=s["sha256"], label=s.get("label"), url=_file_url(request, s["sha256"]))
            for s in pack.samples
        ],
        models=model_list,
        published_at=pack.published_at,
        manifest_url=request.url_for("download_manifest", pack_id=pack.id).path,
    )


@router.get("/packs")
def list_packs(request: Request, session: SessionDep) -> DownloadPackList:
    """Every published pack with its models (strongest first), by title."""
    return DownloadPackList(
        packs=[_pack_public(request, pack, models) for pack, models in downloads.list_packs(session=session)]
    )


@router.get("/packs/{pack_id}", responses=responses(404))
def get_pack(request: Request, session: SessionDep, pack_id: Annotated[PackId, Path()]) -> DownloadPackPublic:
    """One published pack with its models."""
    found = downloads.find_pack(session=session, pack_id=pack_id)
    if found is None:
        raise NO_PACK
    return _pack_public(request, *found)


@router.get("/packs/{pack_id}/manifest", name="download_manifest", responses=responses(404))
def get_manifest(session: SessionDep, pack_id: Annotated[PackId, Path()]) -> Manifest:
    """Every file to install for the pack and its models: install path, SHA-256, size (sorted by path)."""
    found = downloads.find_pack(session=session, pack_id=pack_id)
    if found is None:
        raise NO_PACK
    files = downloads.manifest(session=session, pack_id=pack_id)
    return Manifest(
        pack_id=pack_id,
        published_at=found[0].published_at,
        total_bytes=sum(f.size for f in files),
        files=[ManifestFile(path=f.path, sha256=f.sha256, size=f.size, model_id=f.model_id) for f in files],
    )


def downloads_rate_limit(request: Request, app_state: AppStateDep) -> None:
    """Files have their own per-IP budget: a pack is thousands of small images, each one request."""
    limits = app_state.settings.rate_limits
    key = f"downloads:{client_ip(request.scope)}"
    wait = app_state.limiter.hit(key, limits.downloads_per_ip, limits.window_s)
    if wait is not None:
        raise too_many_requests(wait)


FILE_RESPONSES: dict[int | str, dict] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The whole file"},
    206: {"description": "One byte range (Content-Range)"},
    304: {"description": "If-None-Match names this file"},
    416: {"description": "The range starts past the end (Content-Range: bytes */size)"},
    503: {"description": "The file storage does not answer (Retry-After)"},
    **responses(404, 429),
}
FILE_ROUTE = {"response_class": Response, "dependencies": [Depends(downloads_rate_limit)], "responses": FILE_RESPONSES}


@router.get("/files/{sha256}", name="download_file", operation_id="download_file", **FILE_ROUTE)
@router.head("/files/{sha256}", operation_id="download_file_head", **FILE_ROUTE)
def download_file(
    request: Request, app_state: AppStateDep, session: SessionDep, sha256: Annotated[Sha256, Path()]
) -> Response:
    """A published file by its SHA-256, with range requests and immutable caching (see the module docstring)."""
    found = downloads.find_file(session=session, sha256=sha256)
    if found is None:
        raise NO_FILE
    total, path = found.size, found.path
    session.close()  # the rest streams from the store: hold no database connection meanwhile
    etag = etag_of(sha256)
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes"}
    if matches_etag(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        wanted = parse_range(request.headers.get("range"), total, if_range=request.headers.get("if-range"), etag=etag)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{total}"})
    start, length, status = (0, total, 200) if wanted is None else (wanted.start, wanted.length, 206)
    if wanted is not None:
        headers["Content-Range"] = wanted.content_range(total)
    headers["Content-Length"] = str(length)
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    try:
        chunks = app_state.content_store.read(sha256, start, length)
    except StoreError:
        raise HTTPException(503, "File storage unavailable", headers={"Retry-After": "5"}) from None
    return StreamingResponse(chunks, status_code=status, headers=headers, media_type=media_type)
