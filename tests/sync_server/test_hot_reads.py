"""Hot reads (sync_server/hot_reads.py) give what SQLAlchemy Core gives, on SQLite and PostgreSQL, and keep the
statement deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Select, Table, bindparam, func, insert, select, true
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from sync_server.db import create_db_engine, migrate
from sync_server.hot_reads import AsyncHotReads, HotReads
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


async def _hot_rows(hot: HotReads, params: dict) -> tuple[list[tuple], tuple | None]:
    async with hot.connection() as reads:
        return await reads.rows(STATEMENT, params), await reads.first(STATEMENT, {**params, "floor": 10**6})


@pytest.fixture
def seeded(database_url: str) -> Iterator[tuple[Engine, dict, list[tuple]]]:
    """A database with three players' sessions; the statement's parameters and what Core reads with them."""
    engine = create_db_engine(database_url)
    migrate(engine)
    _seed(engine)
    params = {"since": dt.datetime(2026, 11, 19, tzinfo=dt.UTC), "floor": 0}
    with engine.connect() as connection:
        expected = [tuple(row) for row in connection.execute(STATEMENT, params)]
    yield engine, params, expected
    engine.dispose()


def test_hot_reads_match_core(seeded: tuple[Engine, dict, list[tuple]]) -> None:
    engine, params, expected = seeded
    got, none = asyncio.run(_hot_rows(HotReads(engine), params))
    assert none is None
    assert got == expected and len(got) == 2
    assert [type(value) for value in got[0]] == [str, bool, type(None), dt.datetime, int, dt.datetime]
    assert got[0][3].tzinfo == dt.UTC and got[0][1] is False


def test_a_hot_read_past_the_statement_timeout_is_interrupted(tmp_path) -> None:  # noqa: ANN001
    engine = create_db_engine(f"sqlite:///{tmp_path / 'slow.sqlite3'}", timeouts=DatabaseTimeouts(statement_s=0.2))
    numbers = Table("numbers", MetaData(), Column("n", Integer))
    try:
        with engine.begin() as connection:
            numbers.create(connection)
            connection.execute(insert(numbers), [{"n": n} for n in range(3000)])
        a, b, c = numbers.alias(), numbers.alias(), numbers.alias()
        endless = select(func.count()).select_from(a.join(b, true()).join(c, true())).where(a.c.n >= bindparam("n"))
        with pytest.raises(OperationalError, match="interrupted"):  # as Core raises it: the API answers 503
            asyncio.run(_async_rows(HotReads(engine), endless, {"n": 0}))
    finally:
        engine.dispose()


async def _async_rows(hot: AsyncHotReads | HotReads, statement: Select, params: dict) -> list[tuple]:
    try:
        async with hot.connection() as reads:
            return await reads.rows(statement, params)
    finally:
        await hot.close()


def test_postgresql_reads_on_asyncio_connections_match_core(seeded: tuple[Engine, dict, list[tuple]]) -> None:
    engine, params, expected = seeded
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL board reads only")
    hot = AsyncHotReads(engine, max_size=2, timeouts=DatabaseTimeouts())
    assert asyncio.run(_async_rows(hot, STATEMENT, params)) == expected and len(expected) == 2
    slow = AsyncHotReads(engine, max_size=1, timeouts=DatabaseTimeouts(statement_s=0.2))
    sleep = select(func.pg_sleep(bindparam("n")))
    with pytest.raises(OperationalError, match="statement timeout"):  # 503 in the API
        asyncio.run(_async_rows(slow, sleep, {"n": 5}))
