"""Crowd statistics: per pack, per image, per ranked round, and the open human-label dataset (docs/design.md §6)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import FileResponse

from sync_server import crowd_export, crowd_stats, ranked
from sync_server.api.deps import AppStateDep, CurrentUser, SessionDep
from sync_server.api.errors import responses
from sync_server.crowd import RANKED
from sync_server.crowd_stats import ImageStats
from sync_server.errors import ServiceError
from sync_server.models import SessionRound
from sync_server.schemas.common import PackId, Sha256, Uuid

router = APIRouter(prefix="/stats", tags=["stats"])
PUBLIC_CACHE = "public, max-age=60"
MEDIA_TYPES = {
    "human_labels.jsonl": "application/x-ndjson",
    "schema.json": "application/json",
    "datasheet.md": "text/markdown",
}


def _image_body(stats: ImageStats, *, min_players: int, hide_answers: bool = False) -> dict[str, Any]:
    quantiles = stats.time_quantiles_ms
    return {
        "min_players": min_players,
        "enough_players": stats.enough_players,
        "players": stats.players,
        "timeouts": stats.timeouts,
        "accuracy": stats.accuracy,
        "ai_accuracy": stats.ai_accuracy,
        "answers": None if hide_answers else stats.answers,
        "shown": None if hide_answers else stats.shown,
        "median_ms": stats.median_ms,
        "time_quantiles_ms": None if quantiles is None else {f"p{round(q * 100)}": v for q, v in quantiles.items()},
    }


@router.get("/packs/{pack_id}", responses=responses(404, 429))
def pack(
    pack_id: PackId,
    response: Response,
    app_state: AppStateDep,
    session: SessionDep,
    gallery: Annotated[int, Query(ge=1, le=50)] = 12,
) -> dict[str, Any]:
    """A pack's crowd: totals, human confusion matrix, per-class accuracy, each AI's accuracy and error
    consistency with people, and the galleries (hardest for people; fools the AI but not people)."""
    min_players = app_state.settings.crowd_min_players
    body = app_state.crowd_cache.get(session=session, pack_id=pack_id, min_players=min_players, gallery_size=gallery)
    if body is None:
        raise ServiceError(404, f"No crowd statistics for pack '{pack_id}'")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return body


@router.get("/packs/{pack_id}/images/{image_sha256}", responses=responses(404, 429))
def image(
    pack_id: PackId,
    image_sha256: Sha256,
    response: Response,
    app_state: AppStateDep,
    session: SessionDep,
    source: Literal["ranked", "offline"] = RANKED,
) -> dict[str, Any]:
    """One pack image's crowd (`source=offline`: opted-in offline uploads, unverified); 404 when nobody answered it."""
    min_players = app_state.settings.crowd_min_players
    stats = crowd_stats.image_stats(
        session=session, pack_id=pack_id, image_sha256=image_sha256, source=source, min_players=min_players
    )
    if stats is None:
        raise ServiceError(404, "No crowd statistics for this image")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    head = {"pack_id": pack_id, "image_sha256": image_sha256, "source": source, "verified": source == RANKED}
    return {**head, **_image_body(stats, min_players=min_players)}


@router.get("/ranked/sessions/{session_id}/rounds/{number}", responses=responses(401, 404, 409, 429))
def ranked_round(
    session_id: Uuid,
    number: Annotated[int, Path(ge=1, le=1000)],
    response: Response,
    user: CurrentUser,
    app_state: AppStateDep,
    session: SessionDep,
) -> dict[str, Any]:
    """The crowd on the image behind one of your ranked rounds, once it is answered. The source image stays
    hidden, and the answer distribution waits for the session's end (when the truths are revealed anyway)."""
    game = ranked.load_session(session=session, user=user, public_id=session_id)
    current = session.get(SessionRound, (game.id, number))
    if current is None:
        raise ServiceError(404, f"Round {number} has not been dealt")
    if current.answered_at is None:
        raise ServiceError(409, "Answer the round first")
    min_players = app_state.settings.crowd_min_players
    stats = crowd_stats.image_stats(
        session=session,
        pack_id=game.pack_id,
        image_sha256=current.source_sha256 or current.image_sha256,
        min_players=min_players,
    ) or ImageStats(enough_players=False)
    response.headers["Cache-Control"] = "private, max-age=60"
    head = {"pack_id": game.pack_id, "image_sha256": current.image_sha256, "source": RANKED, "verified": True}
    return {**head, **_image_body(stats, min_players=min_players, hide_answers=game.ended_as is None)}


def _latest(app_state: AppStateDep, pack_id: str) -> tuple[Any, dict[str, Any]]:
    found = crowd_export.latest_export(app_state.settings.resolved_data_dir(), pack_id)
    if found is None:
        raise ServiceError(404, f"No human-label export of pack '{pack_id}' yet")
    return found


@router.get("/packs/{pack_id}/human-labels", responses=responses(404, 429))
def human_labels(pack_id: PackId, response: Response, app_state: AppStateDep) -> dict[str, Any]:
    """The manifest of the pack's latest human-label dataset, with the addresses of its files."""
    _folder, manifest = _latest(app_state, pack_id)
    base = f"/api/v1/stats/packs/{pack_id}/human-labels"
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return {
        **manifest,
        "files": {
            "data": f"{base}/{crowd_export.DATA_FILE}",
            "schema": f"{base}/{crowd_export.SCHEMA_FILE}",
            "datasheet": f"{base}/{crowd_export.DATASHEET_FILE}",
        },
    }


@router.get("/packs/{pack_id}/human-labels/{file}", responses=responses(404, 429))
def human_labels_file(
    pack_id: PackId, file: Literal["human_labels.jsonl", "schema.json", "datasheet.md"], app_state: AppStateDep
) -> FileResponse:
    """One file of the latest export (the data, its JSON Schema or its datasheet)."""
    folder, manifest = _latest(app_state, pack_id)
    return FileResponse(
        folder / file,
        media_type=MEDIA_TYPES[file],
        headers={"Cache-Control": PUBLIC_CACHE, "X-Dataset-Version": str(manifest.get("version", ""))},
    )
