"""The upload body: the game's typed body (game_rules.upload) and the server's pydantic schema stay in step."""

from __future__ import annotations

import datetime as dt
import types
from typing import Annotated, Literal, Union, get_args, get_origin, get_type_hints

import pydantic
import pytest

from game_rules import upload
from game_rules.modes import BLITZ_TOTAL_MS, CLASSIC_ROUND_MS
from sync_server.schemas import games as schema


def _wire(tp: object) -> object:
    """A type as the JSON wire sees it: Annotated bounds dropped, Literal as its base type, datetimes as ISO
    strings, nested models and TypedDicts as 'object', Optional as a frozenset of choices."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _wire(get_args(tp)[0])
    if origin is Literal:
        return type(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return frozenset(_wire(arg) for arg in get_args(tp))
    if origin is list:
        return ("list", _wire(get_args(tp)[0]))
    if tp is dt.datetime:
        return str
    if isinstance(tp, type) and (issubclass(tp, pydantic.BaseModel) or hasattr(tp, "__required_keys__")):
        return "object"
    return tp


def _schema_fields(model: type[pydantic.BaseModel]) -> dict[str, object]:
    hints = get_type_hints(model, include_extras=True)
    return {name: _wire(hints[name]) for name in model.model_fields}


@pytest.mark.parametrize(
    ("typed", "model"), [(upload.RoundUpload, schema.RoundUpload), (upload.SessionUpload, schema.SessionUpload)]
)
def test_the_games_body_and_the_servers_schema_have_the_same_keys_and_types(typed: type, model: type) -> None:
    hints = {name: _wire(tp) for name, tp in get_type_hints(typed, include_extras=True).items()}
    assert hints == _schema_fields(model)


def _round(elapsed_ms: int, number: int = 0) -> upload.RoundUpload:
    return upload.RoundUpload(
        image_sha256=f"{number:064x}",
        options=["a", "b"],
        truth="a",
        player_answer=None,
        ai_answer="b",
        ai_confidence=600,
        ai_top1="b",
        elapsed_ms=elapsed_ms,
        commitment=None,
        salt=None,
    )


def _body(mode: str, times: list[int]) -> upload.SessionUpload:
    return upload.upload_body(
        client_session_id="7d4c2c5e-0b7a-4b8e-9a51-2f3d1c0e9a11",
        pack_id="fashion-mnist",
        difficulty="easy",
        mode=mode,  # type: ignore[arg-type]
        model_id="m",
        model_sha256=None,
        started_at="2026-11-18T12:00:00+00:00",
        finished_at="2026-11-18T12:05:00+00:00",
        session_commitment=None,
        rounds=[_round(ms, i) for i, ms in enumerate(times)],
    )


def test_round_times_are_capped_at_what_the_mode_allows_and_the_server_accepts_them() -> None:
    classic = _body("classic", [1_500, 15_031])
    assert [r["elapsed_ms"] for r in classic["rounds"]] == [1_500, CLASSIC_ROUND_MS]
    blitz = _body("blitz", [40_000, 19_000, 5_000, 2_000])
    assert [r["elapsed_ms"] for r in blitz["rounds"]] == [40_000, 19_000, 1_000, 0]
    assert sum(r["elapsed_ms"] for r in blitz["rounds"]) == BLITZ_TOTAL_MS
    for body in (classic, blitz):
        schema.SessionUpload.model_validate(body)  # the server's validation accepts the capped body
