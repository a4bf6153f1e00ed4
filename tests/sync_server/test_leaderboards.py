"""Global leaderboards: UTC calendar periods, best session per player, tie-breaks, cursor pages, around me."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from sync_server import leaderboards
from sync_server.leaderboards import Period, period_bounds
from sync_server.models import GameSession, User
from tests.sync_server.helpers import ApiClient, FakeClock

BOARDS = "/api/v1/leaderboards/fashion-mnist/easy"
NOON = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)  # a Wednesday


def finish(
    api: ApiClient,
    player_id: str,
    *,
    score: int,
    correct: int = 10,
    time_ms: int = 20_000,
    at: dt.datetime = NOON,
    difficulty: str = "easy",
) -> str:
    """Store a finished verified session for the player and offer it to the boards, as ranked play does."""
    with api.app_state.db_sessions() as session:
        user = session.query(User).filter_by(public_id=player_id).one()
        game = GameSession(
            public_id=str(uuid.uuid4()),
            user_id=user.id,
            pack_id="fashion-mnist",
            difficulty=difficulty,
            mode="ranked",
            model_id="m",
            is_verified=True,
            status="finished",
            score=score,
            correct=correct,
            ai_correct=0,
            rounds_played=10,
            total_time_ms=time_ms,
            started_at=at - dt.timedelta(minutes=2),
            finished_at=at,
        )
        session.add(game)
        session.flush()
        leaderboards.record_session(session=session, game=game)
        session.commit()
        return game.public_id


def players(api: ApiClient, count: int) -> list[dict]:
    return [api.guest(display_name=f"P{i}") for i in range(count)]


@pytest.mark.parametrize(
    ("period", "day", "start", "end"),
    [
        (Period.day, dt.date(2026, 11, 18), dt.date(2026, 11, 18), dt.date(2026, 11, 19)),
        (Period.week, dt.date(2026, 11, 22), dt.date(2026, 11, 16), dt.date(2026, 11, 23)),  # Sunday → Monday
        (Period.week, dt.date(2026, 11, 16), dt.date(2026, 11, 16), dt.date(2026, 11, 23)),
        (Period.month, dt.date(2026, 12, 31), dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
        (Period.all, dt.date(2026, 12, 31), dt.date(1970, 1, 1), None),
    ],
)
def test_periods_are_utc_calendar_periods(period: Period, day: dt.date, start: dt.date, end: dt.date | None) -> None:
    assert period_bounds(period, day) == (start, end)


def test_the_best_session_per_player_counts(api: ApiClient) -> None:
    ada, bob = players(api, 2)
    finish(api, ada["user"]["id"], score=100)
    best = finish(api, ada["user"]["id"], score=140)
    finish(api, ada["user"]["id"], score=120)
    finish(api, bob["user"]["id"], score=130)
    board = api.get(f"{BOARDS}/day").json()
    assert [(e["rank"], e["display_name"], e["score"]) for e in board["entries"]] == [(1, "P0", 140), (2, "P1", 130)]
    assert board["entries"][0]["session_id"] == best and board["total"] == 2
    assert board["period_start"] == "2026-11-18" and board["period_end"] == "2026-11-19" and not board["is_closed"]


def test_ties_break_on_accuracy_then_time(api: ApiClient) -> None:
    a, b, c = players(api, 3)
    finish(api, a["user"]["id"], score=100, correct=8, time_ms=9_000)
    finish(api, b["user"]["id"], score=100, correct=9, time_ms=30_000)
    finish(api, c["user"]["id"], score=100, correct=9, time_ms=20_000)
    entries = api.get(f"{BOARDS}/all").json()["entries"]
    assert [e["display_name"] for e in entries] == ["P2", "P1", "P0"]
    assert entries[0]["accuracy"] == 0.9


def test_closed_periods_stay_queryable(api: ApiClient, clock: FakeClock) -> None:
    (ada,) = players(api, 1)
    finish(api, ada["user"]["id"], score=90)
    clock.advance(2 * 86_400)  # Friday
    assert api.get(f"{BOARDS}/day").json()["entries"] == []
    past = api.get(f"{BOARDS}/day", params={"at": "2026-11-18"}).json()
    assert past["is_closed"] and [e["score"] for e in past["entries"]] == [90]
    week = api.get(f"{BOARDS}/week").json()
    assert not week["is_closed"] and [e["score"] for e in week["entries"]] == [90]
    assert api.get(f"{BOARDS}/day", params={"at": "18-11-2026"}).status_code == 422


def test_cursor_pages_cover_the_board_once(api: ApiClient) -> None:
    everyone = players(api, 7)
    for i, player in enumerate(everyone):
        finish(api, player["user"]["id"], score=50 + (i % 3) * 10, time_ms=10_000 + i)
    seen, cursor = [], None
    while True:
        page = api.get(f"{BOARDS}/month", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["rank"] for e in seen] == list(range(1, 8))
    assert len({e["player_id"] for e in seen}) == 7
    assert [e["score"] for e in seen] == sorted((e["score"] for e in seen), reverse=True)
    full = api.get(f"{BOARDS}/month", params={"limit": 100}).json()["entries"]
    assert [e["player_id"] for e in full] == [e["player_id"] for e in seen]


def test_bad_board_queries_are_refused(api: ApiClient) -> None:
    assert api.get(f"{BOARDS}/day", params={"limit": 101}).status_code == 422
    assert api.get(f"{BOARDS}/day", params={"limit": 0}).status_code == 422
    assert api.get(f"{BOARDS}/day", params={"cursor": "garbage!"}).status_code == 422
    assert api.get(f"{BOARDS}/year").status_code == 422
    assert api.get("/api/v1/leaderboards/fashion-mnist/insane/day").status_code == 422
    assert api.get("/api/v1/leaderboards/fashion-mnist/easy/day", params={"at": "1999-01-01"}).status_code == 422


def test_around_me(api: ApiClient) -> None:
    everyone = players(api, 9)
    for i, player in enumerate(everyone):
        finish(api, player["user"]["id"], score=100 - i)
    me = everyone[4]
    page = api.get(f"{BOARDS}/day/around-me", token=me["access_token"], params={"window": 2}).json()
    assert [(e["rank"], e["display_name"]) for e in page["entries"]] == [
        (3, "P2"),
        (4, "P3"),
        (5, "P4"),
        (6, "P5"),
        (7, "P6"),
    ]
    top = api.get(f"{BOARDS}/day/around-me", token=everyone[0]["access_token"], params={"window": 2}).json()
    assert [e["rank"] for e in top["entries"]] == [1, 2, 3]
    stranger = api.guest()
    assert api.get(f"{BOARDS}/day/around-me", token=stranger["access_token"]).json()["entries"] == []
    assert api.get(f"{BOARDS}/day/around-me").status_code == 401
    assert api.get(f"{BOARDS}/day/around-me", token=me["access_token"], params={"window": 51}).status_code == 422
