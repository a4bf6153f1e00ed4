"""Board pages served fast (sync_server/api/board_pages.py): the lane answers repeats exactly as the routes do,
still under every limit and sign-in check, and a rename reaches cached pages."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from sync_server.api import board_pages
from sync_server.api.routes import leaderboards as routes
from sync_server.models import User
from tests.sync_server.helpers import ApiClient
from tests.sync_server.test_leaderboards import BOARDS, finish, players


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[board_pages.BoardRead]:
    """Every read the routes validated (the lane serves the repeats without them)."""
    seen: list[board_pages.BoardRead] = []

    def counting(*args: object, **kwargs: object) -> board_pages.BoardRead:
        seen.append(board_pages.board_read(*args, **kwargs))  # type: ignore[arg-type]
        return seen[-1]

    monkeypatch.setattr(routes, "board_read", counting)
    return seen


def test_a_repeat_is_answered_by_the_lane_exactly_as_by_the_route(api: ApiClient, validated: list) -> None:
    ada, bob = players(api, 2)
    finish(api, ada["user"]["id"], score=50)
    finish(api, bob["user"]["id"], score=60)
    first = api.get(f"{BOARDS}/day", params={"limit": 1})
    again = api.get(f"{BOARDS}/day", params={"limit": 1})
    assert len(validated) == 1  # the second never reached the route
    assert (again.status_code, again.content, again.headers["content-type"]) == (
        first.status_code,
        first.content,
        first.headers["content-type"],
    )
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # still inside the request-id middleware
    cursor = first.json()["next_cursor"]
    second_page = api.get(f"{BOARDS}/day", params={"limit": 1, "cursor": cursor}).json()
    assert [e["rank"] for e in second_page["entries"]] == [2] and len(validated) == 2  # another target: the route
    finish(api, ada["user"]["id"], score=70)  # a write: the lane's answer follows the board
    assert [e["score"] for e in api.get(f"{BOARDS}/day", params={"limit": 1}).json()["entries"]] == [70]
    assert len(validated) == 2


def test_the_lane_never_answers_a_request_the_route_would_refuse(api: ApiClient, validated: list) -> None:
    assert api.get(f"{BOARDS}/day", params={"limit": 1}).status_code == 200
    assert api.get(f"{BOARDS}/day", params={"limit": 1, "limt": 2}).status_code == 422  # unknown parameter
    assert api.get(f"{BOARDS}/day", params={"limit": 0}).status_code == 422
    assert api.get(f"{BOARDS}/day", params={"limit": 1}).status_code == 200
    assert len(validated) == 1


def test_the_lane_counts_against_the_ip_limit(make_client) -> None:
    api = make_client(rate_limits={"per_ip": 3, "window_s": 60})
    statuses = [api.get(f"{BOARDS}/all").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_around_me_on_the_lane_still_checks_the_token_and_the_account(api: ApiClient, validated: list) -> None:
    me = players(api, 1)[0]
    finish(api, me["user"]["id"], score=50)
    token = me["access_token"]
    pages = [api.get(f"{BOARDS}/day/around-me", token=token) for _ in range(2)]
    assert [p.status_code for p in pages] == [200, 200] and pages[0].content == pages[1].content
    assert len(validated) == 1
    assert api.get(f"{BOARDS}/day/around-me").status_code == 401  # no token: the app answers
    assert api.get(f"{BOARDS}/day/around-me", token=token + "x").status_code == 401
    with api.app_state.db_sessions() as session:
        session.execute(update(User).where(User.public_id == me["user"]["id"]).values(is_active=False))
        session.commit()
    refused = api.get(f"{BOARDS}/day/around-me", token=token)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


def test_a_rename_shows_on_cached_top_and_around_me_pages(api: ApiClient) -> None:
    ada, bob = players(api, 2)
    finish(api, ada["user"]["id"], score=50)
    finish(api, bob["user"]["id"], score=60)
    for period in ("day", "all"):
        assert [e["display_name"] for e in api.get(f"{BOARDS}/{period}").json()["entries"]] == ["P1", "P0"]
    around = api.get(f"{BOARDS}/day/around-me", token=bob["access_token"]).json()
    assert [e["display_name"] for e in around["entries"]] == ["P1", "P0"]
    renamed = api.patch("/api/v1/me", token=ada["access_token"], json={"display_name": "Ada Lovelace"})
    assert renamed.status_code == 200, renamed.text
    for period in ("day", "week", "month", "all"):
        assert [e["display_name"] for e in api.get(f"{BOARDS}/{period}").json()["entries"]] == ["P1", "Ada Lovelace"]
    around = api.get(f"{BOARDS}/day/around-me", token=bob["access_token"]).json()
    assert [e["display_name"] for e in around["entries"]] == ["P1", "Ada Lovelace"]
