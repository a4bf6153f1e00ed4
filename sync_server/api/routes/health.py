"""Liveness and readiness for load balancers and the desktop client."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy import text

from sync_server import __version__
from sync_server.api.deps import AppStateDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    version: str


@router.get("/health", responses={503: {"model": Health, "description": "The database is unreachable"}})
def health(app_state: AppStateDep, response: Response) -> Health:
    """`ok` when the database answers; 503 otherwise."""
    try:
        with app_state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable", database="unreachable", version=__version__)
    return Health(status="ok", database=app_state.engine.dialect.name, version=__version__)
