"""Liveness and readiness for load balancers and the desktop client: answered within a second, always."""

from __future__ import annotations

import threading

import anyio
from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import Engine, text

from sync_server import __version__
from sync_server.api.deps import AppState

router = APIRouter(tags=["health"])
ANSWER_WITHIN_S = 0.8  # leaves the rest of the second for the HTTP round trip


class Health(BaseModel):
    status: str
    database: str
    version: str


class HealthProbe:
    """`SELECT 1` in a thread of its own, at most one in flight: a hung database does not pile up threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._answers: dict[threading.Thread, bool] = {}

    async def is_ready(self, engine: Engine, within_s: float) -> bool:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._answers.pop(self._thread, None)
                self._thread = threading.Thread(target=self._select_one, args=(engine,), daemon=True)
                self._thread.start()
            thread = self._thread
        deadline = anyio.current_time() + within_s
        while thread.is_alive() and anyio.current_time() < deadline:
            await anyio.sleep(0.005)
        return self._answers.get(thread, False)

    def _select_one(self, engine: Engine) -> None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            ok = True
        except Exception:  # noqa: BLE001 - any database failure means "not ready"
            ok = False
        self._answers[threading.current_thread()] = ok


@router.get(
    "/health", responses={503: {"model": Health, "description": "The database is unreachable or does not answer"}}
)
async def health(request: Request, response: Response) -> Health:
    """`ok` when the database answers within a second; 503 "database unavailable" otherwise."""
    # Read directly, not through a dependency: no hop through the (perhaps busy) threadpool before answering.
    app_state: AppState = request.app.state.app_state
    probe = getattr(request.app.state, "health_probe", None)
    if probe is None:
        probe = request.app.state.health_probe = HealthProbe()
    if not await probe.is_ready(app_state.engine, ANSWER_WITHIN_S):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="database unavailable", database="unreachable", version=__version__)
    return Health(status="ok", database=app_state.engine.dialect.name, version=__version__)
