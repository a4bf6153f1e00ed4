"""Turning domain errors into short HTTP answers; the OpenAPI description of the error responses."""

from __future__ import annotations

from fastapi import HTTPException

from sync_server.errors import ServiceError
from sync_server.schemas.common import Message


def http_error(error: ServiceError) -> HTTPException:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return HTTPException(error.status, error_detail(error.status, error.detail), headers=headers)


def error_detail(status: int, message: str) -> str | list[dict]:
    """The `detail` of an error answer: a short message, or for 422 FastAPI's list of issues (one shape per code)."""
    if status == 422:
        return [{"loc": [], "msg": message, "type": "value_error"}]
    return message


def responses(*codes: int) -> dict[int | str, dict]:
    """OpenAPI `responses=` for the error statuses a route can answer with.

    422 is left to FastAPI, which documents it for every route with inputs: its body is the validation error list
    (the server's own 422 answers use the same shape, see main.py).
    """
    text = {
        400: "Bad request",
        401: "Not signed in or bad credentials",
        403: "Forbidden",
        404: "Not found",
        409: "Conflict",
        413: "Request body too large",
        429: "Too many requests",
    }
    return {code: {"model": Message, "description": text.get(code, "Error")} for code in codes if code != 422}
