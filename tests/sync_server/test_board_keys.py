"""Leaderboards as index range scans: the key order, ranks at the edges, cursors, the page cache, migrations 0002
and 0008."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sync_server import board_reads, leaderboards
from sync_server.account_tokens import delete_user
from sync_server.db import create_db_engine, migrate
from sync_server.hot_reads import HotReads
from sync_server.leaderboards import Board, Period
from sync_server.models import GameSession, Leaderboard, LeaderboardEntry, LeaderboardScoreCount, User
from tests.sync_server.helpers import ApiClient
from tests.sync_server.test_leaderboards import BOARDS, NOON, finish, players

# (score, correct of 10, total ms, minutes after NOON): ties on every column but the account, and on some columns.
RESULTS = [
    (100, 9, 20_000, 0),
    (100, 9, 20_000, 0),  # a full tie with the one above: the account decides
    (100, 9, 20_000, -5),  # same, achieved earlier: ahead of both
    (100, 10, 30_000, 0),  # same score, better accuracy
    (100, 9, 19_000, 0),  # same score and accuracy, less time
    (150, 5, 90_000, 0),
    (0, 0, 150_000, 0),
    (100, 9, 20_000, 0),
    (75, 6, 40_000, 0),
    (150, 5, 90_000, 0),
    (100, 8, 20_000, 0),
]


def _play_all(api: ApiClient) -> list[str]:
    """Every RESULTS row finished by its own player; the player ids in the board's expected order."""
    everyone = players(api, len(RESULTS))
    expected = []
    for player, (score, correct, time_ms, minutes) in zip(everyone, RESULTS, strict=True):
        at = NOON + dt.timedelta(minutes=minutes)
        finish(api, player["user"]["id"], score=score, correct=correct, time_ms=time_ms, at=at)
        with api.app_state.db_sessions() as session:
            user_id = session.scalar(select(User.id).where(User.public_id == player["user"]["id"]))
        expected.append(((-score, -correct, time_ms, at, user_id), player))
    return [player["user"]["id"] for _key, player in sorted(expected, key=lambda item: item[0])]


def _all_pages(api: ApiClient, limit: int) -> list[dict]:
    seen, cursor = [], None
    while True:
        page = api.get(f"{BOARDS}/all", params={"limit": limit, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize("limit", [1, 4, 100])
def test_paging_through_the_whole_board_is_the_sorted_order(api: ApiClient, limit: int) -> None:
    order = _play_all(api)
    seen = _all_pages(api, limit)
    assert [e["player_id"] for e in seen] == order
    assert [e["rank"] for e in seen] == list(range(1, len(order) + 1))
    assert api.get(f"{BOARDS}/all").json()["total"] == len(order)


def test_around_me_ranks_agree_with_the_pages_at_every_position(api: ApiClient) -> None:
    order = _play_all(api)
    everyone = {e["player_id"]: e for e in _all_pages(api, 100)}
    for rank, player_id in enumerate(order, start=1):
        token = _token_of(api, player_id)
        page = api.get(f"{BOARDS}/all/around-me", token=token, params={"window": 2}).json()
        ids = [e["player_id"] for e in page["entries"]]
        assert ids == order[max(0, rank - 3) : rank + 2]  # first, last and the ties in between
        assert [e["rank"] for e in page["entries"]] == [everyone[i]["rank"] for i in ids]
        assert page["total"] == len(order)
    stranger = api.guest()
    assert api.get(f"{BOARDS}/all/around-me", token=stranger["access_token"]).json()["entries"] == []
    assert (
        api.get(f"{BOARDS}/day/around-me", token=stranger["access_token"], params={"at": "2030-01-01"}).json()[
            "entries"
        ]
        == []
    )


def _token_of(api: ApiClient, player_id: str) -> str:
    return api.app_state.tokens.issue(player_id, now=api.app_state.clock())[0]


def test_a_better_session_moves_the_player_and_keeps_the_count(api: ApiClient) -> None:
    ada, bob = players(api, 2)
    finish(api, ada["user"]["id"], score=50)
    finish(api, bob["user"]["id"], score=60)
    finish(api, ada["user"]["id"], score=70)
    finish(api, ada["user"]["id"], score=10)  # worse: ignored
    board = api.get(f"{BOARDS}/all").json()
    assert [(e["rank"], e["score"]) for e in board["entries"]] == [(1, 70), (2, 60)] and board["total"] == 2
    with api.app_state.db_sessions() as session:
        counts = session.execute(
            select(LeaderboardScoreCount.score, LeaderboardScoreCount.players)
            .join(Leaderboard, Leaderboard.id == LeaderboardScoreCount.board_id)
            .where(Leaderboard.period == "all")
        ).all()
    assert {score: n for score, n in counts if n} == {70: 1, 60: 1}


def test_a_cached_page_changes_when_another_host_writes(make_client) -> None:
    """Two app instances on one database, as two hosts: a write through one shows on the other's next read."""
    host_a = make_client()
    host_b = make_client()
    ada, bob = players(host_a, 2)
    finish(host_b, ada["user"]["id"], score=50)
    assert [e["score"] for e in host_a.get(f"{BOARDS}/day").json()["entries"]] == [50]
    assert [e["score"] for e in host_a.get(f"{BOARDS}/day").json()["entries"]] == [50]  # from the cache
    finish(host_b, bob["user"]["id"], score=60)
    page = host_a.get(f"{BOARDS}/day").json()
    assert [e["score"] for e in page["entries"]] == [60, 50] and page["total"] == 2


def _old_cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _old_cursor(1, 0, 0, "0001-01-01T00:30:00+01:00", 1),  # the audit's 500s: times near year 1 and 9999
        _old_cursor(1, 0, 0, "9999-12-31T23:30:00-01:00", 1),
        _old_cursor(2**40, 0, 0, "2026-01-01T00:00:00+00:00", 1),  # numbers past int4
        _old_cursor(2**31, 0, 0, "2026-01-01T00:00:00+00:00", 2**31),
        "A" * 31,
        "A" * 33,
        "A" * 31 + "=",
        "A" * 31 + "+",
        "A" * 31 + "/",
        "Ä" * 32,
        "",
    ],
)
def test_malformed_cursors_are_refused(api: ApiClient, cursor: str) -> None:
    response = api.get(f"{BOARDS}/all", params={"cursor": cursor})
    if cursor == "":  # an empty cursor reads as none: the first page
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Invalid cursor; start again without one."


@pytest.mark.parametrize("fill", [b"\x00", b"\xff", b"\x80"])
def test_any_well_formed_cursor_is_a_position(api: ApiClient, fill: bytes) -> None:
    (ada,) = players(api, 1)
    finish(api, ada["user"]["id"], score=100)
    cursor = base64.urlsafe_b64encode(fill * leaderboards.KEY_BYTES).decode()
    page = api.get(f"{BOARDS}/all", params={"cursor": cursor})
    assert page.status_code == 200
    assert [e["rank"] for e in page.json()["entries"]] == ([1] if fill == b"\x00" else [])


def test_closed_boards_keep_their_keys(api: ApiClient, clock) -> None:  # noqa: ANN001 - FakeClock
    ada, bob = players(api, 2)
    finish(api, ada["user"]["id"], score=90)
    finish(api, bob["user"]["id"], score=95, at=NOON + dt.timedelta(days=1))
    clock.advance(40 * 86_400)
    old = api.get(f"{BOARDS}/day", params={"at": "2026-11-18"}).json()
    assert old["is_closed"] and [e["score"] for e in old["entries"]] == [90] and old["total"] == 1
    month = api.get(f"{BOARDS}/month", params={"at": "2026-11-30"}).json()
    assert month["is_closed"] and [e["score"] for e in month["entries"]] == [95, 90]


def _fresh_url(database_url: str, tmp_path: Path) -> str:
    """An empty database: the PostgreSQL schema as given, or a new SQLite file (the fixture's is migrated)."""
    return f"sqlite:///{tmp_path / 'at-0001.sqlite3'}" if database_url.startswith("sqlite") else database_url


def _seed_at_0001(session: Session) -> list[int]:
    """Players, sessions and board places written with the columns of revision 0001 only (SQL, not the ORM:
    the models describe the newest schema, whose later columns a database at 0001 does not have)."""
    is_sqlite = session.get_bind().dialect.name == "sqlite"
    at = NOON.replace(tzinfo=None) if is_sqlite else NOON
    scores = [(80, 800_000, 30_000), (90, 900_000, 40_000), (80, 800_000, 20_000), (80, 800_000, 30_000)]
    user_ids = []
    for i, (score, accuracy, time_ms) in enumerate(scores):
        user_id = session.execute(
            text(
                "INSERT INTO users (public_id, display_name, is_guest, is_active, created_at, updated_at)"
                " VALUES (:public_id, :name, :true, :true, :at, :at) RETURNING id"
            ),
            {"public_id": str(uuid.uuid4()), "name": f"U{i}", "true": True, "at": at},
        ).scalar_one()
        user_ids.append(user_id)
        game_id = session.execute(
            text(
                "INSERT INTO game_sessions (public_id, user_id, pack_id, difficulty, mode, model_id, is_verified,"
                " status, score, correct, ai_correct, rounds_played, total_time_ms, started_at, finished_at,"
                " created_at) VALUES (:public_id, :user, 'fashion-mnist', 'easy', 'ranked', 'm', :true, 'finished',"
                " :score, :correct, 0, 10, :time, :at, :at, :at) RETURNING id"
            ),
            {
                "public_id": str(uuid.uuid4()),
                "user": user_id,
                "true": True,
                "score": score,
                "correct": accuracy // 100_000,
                "time": time_ms,
                "at": at,
            },
        ).scalar_one()
        for period, start in (("all", "1970-01-01"), ("day", "2026-11-18")):
            session.execute(
                text(
                    "INSERT INTO leaderboard_entries (pack_id, difficulty, period, period_start, user_id, session_id,"
                    " score, accuracy_ppm, total_time_ms, achieved_at) VALUES ('fashion-mnist', 'easy', :period,"
                    " :start, :user, :game, :score, :accuracy, :time, :at)"
                ),
                {
                    "period": period,
                    "start": dt.date.fromisoformat(start),
                    "user": user_id,
                    "game": game_id,
                    "score": score,
                    "accuracy": accuracy,
                    "time": time_ms,
                    "at": at,
                },
            )
    session.commit()
    return [user_ids[1], user_ids[2], user_ids[0], user_ids[3]]  # the expected order


_MIGRATED_BOARDS = ((Period.all, dt.date(1970, 1, 1)), (Period.day, dt.date(2026, 11, 18)))


async def _read_through(hot: HotReads, boards: list[Board], user_id: int) -> list[tuple]:
    """(top page, its cursor, the user's neighbourhood of 1) of each board, read as the server reads them."""
    pages = []
    async with hot.connection() as reads:
        for board in boards:
            rows, cursor = await board_reads.top(reads=reads, board=board, limit=10)
            pages.append((rows, cursor, await board_reads.around(reads=reads, board=board, user_id=user_id, window=1)))
    return pages


def test_migration_0002_backfills_boards_counts_and_keys(database_url: str, tmp_path: Path) -> None:
    engine = create_db_engine(_fresh_url(database_url, tmp_path))
    try:
        migrate(engine, "0001")
        with Session(engine) as session:
            expected = _seed_at_0001(session)
        migrate(engine)
        with Session(engine) as session:
            boards = session.execute(select(Leaderboard.period, Leaderboard.size, Leaderboard.version)).all()
            assert sorted(boards) == [("all", 4, 1), ("day", 4, 1)]
            counts = session.execute(select(LeaderboardScoreCount.score, LeaderboardScoreCount.players)).all()
            assert sorted(counts) == [(80, 3), (80, 3), (90, 1), (90, 1)]
            for entry in session.scalars(select(LeaderboardEntry)):
                assert entry.sort_key == leaderboards.sort_key(
                    score=entry.score,
                    accuracy=entry.accuracy_ppm,
                    total_time_ms=entry.total_time_ms,
                    achieved_at=entry.achieved_at,
                    user_id=entry.user_id,
                )
                user, game = session.get(User, entry.user_id), session.get(GameSession, entry.session_id)
                shown = (entry.player_public_id, entry.display_name, entry.rounds, entry.session_public_id)
                assert shown == (user.public_id, user.display_name, game.rounds_played, game.public_id)  # 0008
        boards = [Board("fashion-mnist", "easy", period, start) for period, start in _MIGRATED_BOARDS]
        pages = asyncio.run(_read_through(HotReads(engine), boards, expected[3]))
        with Session(engine) as session:
            for rows, cursor, mine in pages:
                assert [r.rank for r in rows] == [1, 2, 3, 4] and cursor is None
                ids = session.scalars(select(User.id).where(User.public_id.in_([r.player_id for r in rows]))).all()
                assert sorted(ids) == sorted(expected)
                assert [r.score for r in rows] == [90, 80, 80, 80]
                assert [r.total_time_ms for r in rows] == [40_000, 20_000, 30_000, 30_000]
                assert [r.rank for r in mine] == [3, 4]
    finally:
        engine.dispose()


def test_a_write_on_another_host_shows_within_the_freshness_bound(make_client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another host's write is not counted here: this host's cached page may lag it by at most FRESH_S."""
    from sync_server.api import board_pages

    host_a, host_b = make_client(), make_client()
    ada, bob = players(host_a, 2)
    finish(host_b, ada["user"]["id"], score=50)
    assert [e["score"] for e in host_a.get(f"{BOARDS}/day").json()["entries"]] == [50]
    host_a.app.state.board_pages.top.fresh_s = 60  # FRESH_S stretched: a busy test machine may take longer than it
    monkeypatch.setattr(leaderboards, "committed_writes", lambda: -1)  # as if the writes came from elsewhere
    assert [e["score"] for e in host_a.get(f"{BOARDS}/day").json()["entries"]] == [50]  # read again: now -1
    finish(host_b, bob["user"]["id"], score=60)
    assert [e["score"] for e in host_a.get(f"{BOARDS}/day").json()["entries"]] == [50]  # within FRESH_S: cached
    assert board_pages.FRESH_S <= 1
    host_a.app.state.board_pages.top.fresh_s = 0  # as when FRESH_S has passed
    assert [e["score"] for e in host_a.get(f"{BOARDS}/day").json()["entries"]] == [60, 50]


def test_a_deleted_account_leaves_every_board_with_right_counts_and_ranks(api: ApiClient) -> None:
    order = _play_all(api)
    gone = order[2]  # a player in the middle of the board
    with api.app_state.db_sessions() as session:
        user = session.scalar(select(User).where(User.public_id == gone))
        delete_user(session=session, user=user)
    remaining = [p for p in order if p != gone]
    seen = _all_pages(api, 4)
    assert [e["player_id"] for e in seen] == remaining
    assert [e["rank"] for e in seen] == list(range(1, len(remaining) + 1))
    assert api.get(f"{BOARDS}/all").json()["total"] == len(remaining)
    last = _token_of(api, remaining[-1])
    page = api.get(f"{BOARDS}/all/around-me", token=last, params={"window": 0}).json()
    assert [(e["player_id"], e["rank"]) for e in page["entries"]] == [(remaining[-1], len(remaining))]
