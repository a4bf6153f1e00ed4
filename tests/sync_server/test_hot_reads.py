"""Hot reads (sync_server/hot_reads.py) give what SQLAlchemy Core gives, on SQLite and PostgreSQL, and keep the
statement deadline."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from sync_server.db import create_db_engine, migrate
from sync_server.hot_reads import HotReads
from sync_server.models import GameSession, User
from sync_server.settings import DatabaseTimeouts

_U, _G = User.__table__, GameSession.__table__
# Booleans, aware datetimes, strings, integers, a NULL, a default Core binds itself (the limit), a repeated name.
STATEMENT = (
    select(_U.c.public_id, _U.c.is_active, _U.c.email, _G.c.finished_at, _G.c.score, _G.c.started_at)
    .select_from(_U.join(_G, _G.c.user_id == _U.c.id))
    .where(_G.c.finished_at >= bindparam("since"), _U.c.id > bindparam("floor"), _G.c.user_id > bindparam("floor"))
    .order_by(_G.c.id)
    .limit(5)
)


def _seed(engine) -> None:  # noqa: ANN001
    at = dt.datetime(2026, 11, 18, 12, 0, 30, 123456, tzinfo=dt.UTC)
    with Session(engine) as session:
        for i, active in enumerate((True, False, True)):
            user = User(public_id=f"00000000-0000-4000-8000-00000000000{i}", display_name=f"P{i}", is_active=active)
            session.add(user)
            session.flush()
            session.add(
                GameSession(
                    public_id=f"10000000-0000-4000-8000-00000000000{i}",
                    user_id=user.id,
                    pack_id="fashion-mnist",
                    difficulty="easy",
                    mode="ranked",
                    model_id="m",
                    status="finished",
                    score=10 * i,
                    started_at=at - dt.timedelta(minutes=3),
                    finished_at=at + dt.timedelta(days=i),
                )
            )
        session.commit()


def test_hot_reads_match_core(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        migrate(engine)
        _seed(engine)
        params = {"since": dt.datetime(2026, 11, 19, tzinfo=dt.UTC), "floor": 0}
        with engine.connect() as connection:
            expected = [tuple(row) for row in connection.execute(STATEMENT, params)]
        with HotReads(engine).connection() as reads:
            got = reads.rows(STATEMENT, params)
            assert reads.first(STATEMENT, {**params, "floor": 10**6}) is None
        assert got == expected and len(got) == 2
        assert [type(value) for value in got[0]] == [str, bool, type(None), dt.datetime, int, dt.datetime]
        assert got[0][3].tzinfo == dt.UTC and got[0][1] is False
    finally:
        engine.dispose()


def test_a_hot_read_past_the_statement_timeout_is_interrupted(tmp_path) -> None:  # noqa: ANN001
    engine = create_db_engine(f"sqlite:///{tmp_path / 'slow.sqlite3'}", timeouts=DatabaseTimeouts(statement_s=0.2))
    slow = select(bindparam("n"))  # compiled, then its SQL replaced by a query that never ends
    try:
        reads = HotReads(engine)
        reads[
            slow
        ].sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c WHERE ? > 0"
        with reads.connection() as connection, pytest.raises(OperationalError, match="interrupted"):
            connection.rows(slow, {"n": 1})  # as Core raises it: the API answers 503
    finally:
        engine.dispose()
