"""Around-me pages come from a per-process cache stamped with the board's version: every change shows at once."""

from __future__ import annotations

from sqlalchemy import select, update

from sync_server.account_tokens import delete_user
from sync_server.models import User
from tests.sync_server.helpers import ApiClient
from tests.sync_server.test_leaderboards import BOARDS, finish, players


def _ranks(api: ApiClient, token: str, window: int = 1) -> list[tuple[str, int]]:
    response = api.get(f"{BOARDS}/day/around-me", token=token, params={"window": window})
    assert response.status_code == 200
    return [(e["display_name"], e["rank"]) for e in response.json()["entries"]]


def test_a_write_shows_in_the_next_around_me_read(api: ApiClient) -> None:
    ada, bob, cy = players(api, 3)
    finish(api, ada["user"]["id"], score=50)
    finish(api, bob["user"]["id"], score=40)
    assert _ranks(api, bob["access_token"]) == [("P0", 1), ("P1", 2)]
    assert _ranks(api, bob["access_token"]) == [("P0", 1), ("P1", 2)]  # the cached page
    finish(api, cy["user"]["id"], score=45)
    assert _ranks(api, bob["access_token"]) == [("P2", 2), ("P1", 3)]
    finish(api, bob["user"]["id"], score=60)
    assert _ranks(api, bob["access_token"]) == [("P1", 1), ("P0", 2)]
    page = api.get(f"{BOARDS}/day/around-me", token=bob["access_token"]).json()
    assert page["total"] == 3


def test_another_hosts_write_shows_in_around_me_at_once(make_client) -> None:
    """Two app instances on one database, as two hosts: around-me reads the board's version with the player's
    place every time, so unlike the top page it is never behind another host's write."""
    host_a, host_b = make_client(), make_client()
    ada, bob = players(host_a, 2)
    finish(host_b, ada["user"]["id"], score=50)
    assert _ranks(host_a, ada["access_token"]) == [("P0", 1)]
    assert _ranks(host_b, ada["access_token"]) == [("P0", 1)]
    finish(host_b, bob["user"]["id"], score=60)
    assert _ranks(host_a, ada["access_token"]) == [("P1", 1), ("P0", 2)]
    finish(host_a, ada["user"]["id"], score=70)
    assert _ranks(host_b, ada["access_token"]) == [("P0", 1), ("P1", 2)]


def test_a_disabled_or_deleted_account_is_refused_even_with_a_cached_page(api: ApiClient) -> None:
    ada, bob = players(api, 2)
    finish(api, ada["user"]["id"], score=50)
    finish(api, bob["user"]["id"], score=40)
    assert _ranks(api, ada["access_token"]) == [("P0", 1), ("P1", 2)]
    with api.app_state.db_sessions() as session:
        session.execute(update(User).where(User.public_id == ada["user"]["id"]).values(is_active=False))
        session.commit()
    refused = api.get(f"{BOARDS}/day/around-me", token=ada["access_token"])
    assert refused.status_code == 401 and refused.json() == {"detail": "Could not validate credentials"}
    assert _ranks(api, bob["access_token"]) == [("P0", 1), ("P1", 2)]
    with api.app_state.db_sessions() as session:
        delete_user(session=session, user=session.scalar(select(User).where(User.public_id == bob["user"]["id"])))
    assert api.get(f"{BOARDS}/day/around-me", token=bob["access_token"]).status_code == 401
