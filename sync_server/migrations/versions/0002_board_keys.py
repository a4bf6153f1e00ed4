"""Board keys: a row per board (player count, version), players per score, one sort key per entry; backfilled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 18:40:00.000000
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The key as sync_server.leaderboards.sort_key builds it at this revision (frozen here: a migration must not change
# when the application code does; a test checks that the two agree).
_KEY = struct.Struct(">IIIQI")
_U32 = 2**32 - 1
_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
_BATCH = 5_000
_BOARD = ("pack_id", "difficulty", "period", "period_start")

entries = sa.table(
    "leaderboard_entries",
    *(sa.column(name) for name in (*_BOARD, "user_id", "score", "accuracy_ppm", "total_time_ms")),
    sa.column("achieved_at", sa.DateTime(timezone=True)),
    sa.column("sort_key", sa.LargeBinary()),
)


def _key(score: int, accuracy: int, total_time_ms: int, achieved_at: dt.datetime, user_id: int) -> bytes:
    aware = achieved_at.replace(tzinfo=dt.UTC) if achieved_at.tzinfo is None else achieved_at.astimezone(dt.UTC)
    micros = (aware - _EPOCH) // dt.timedelta(microseconds=1)
    return _KEY.pack(_U32 - (score + 2**31), _U32 - accuracy, min(total_time_ms, _U32), micros, user_id)


def _create_tables() -> None:
    op.create_table(
        "leaderboards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("difficulty", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=5), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboards")),
        sa.UniqueConstraint(*_BOARD, name="uq_leaderboards_board"),
    )
    op.create_table(
        "leaderboard_score_counts",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("players", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["leaderboards.id"],
            name=op.f("fk_leaderboard_score_counts_board_id_leaderboards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("board_id", "score", name=op.f("pk_leaderboard_score_counts")),
    )
    op.add_column("leaderboard_entries", sa.Column("board_id", sa.Integer(), nullable=True))
    op.add_column("leaderboard_entries", sa.Column("sort_key", sa.LargeBinary(), nullable=True))


def _backfill() -> None:
    board = " AND ".join(f"b.{name} = leaderboard_entries.{name}" for name in _BOARD)
    columns = ", ".join(_BOARD)
    op.execute(
        f"INSERT INTO leaderboards ({columns}, size, version) "
        f"SELECT {columns}, count(*), 1 FROM leaderboard_entries GROUP BY {columns}"
    )
    op.execute(f"UPDATE leaderboard_entries SET board_id = (SELECT b.id FROM leaderboards b WHERE {board})")
    op.execute(
        "INSERT INTO leaderboard_score_counts (board_id, score, players) "
        "SELECT board_id, score, count(*) FROM leaderboard_entries GROUP BY board_id, score"
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            *(entries.c[name] for name in (*_BOARD, "user_id")),
            entries.c.score,
            entries.c.accuracy_ppm,
            entries.c.total_time_ms,
            entries.c.achieved_at,
        )
    ).all()
    where = sa.and_(*(entries.c[name] == sa.bindparam(f"b_{name}") for name in (*_BOARD, "user_id")))
    statement = entries.update().where(where).values(sort_key=sa.bindparam("b_key"))
    for first in range(0, len(rows), _BATCH):
        connection.execute(
            statement,
            [
                {
                    **{f"b_{name}": value for name, value in zip((*_BOARD, "user_id"), row[:5], strict=True)},
                    "b_key": _key(row.score, row.accuracy_ppm, row.total_time_ms, row.achieved_at, row.user_id),
                }
                for row in rows[first : first + _BATCH]
            ],
        )


def upgrade() -> None:
    _create_tables()
    _backfill()
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        batch_op.alter_column("board_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("sort_key", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_leaderboard_entries_board_id_leaderboards"),
            "leaderboards",
            ["board_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_index("ix_leaderboard_order")
        batch_op.create_index("ix_leaderboard_entries_board_key", ["board_id", "sort_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_leaderboard_entries_board_key")
        batch_op.drop_constraint(batch_op.f("fk_leaderboard_entries_board_id_leaderboards"), type_="foreignkey")
        batch_op.drop_column("sort_key")
        batch_op.drop_column("board_id")
        batch_op.create_index(
            "ix_leaderboard_order",
            [*_BOARD, "score", "accuracy_ppm", "total_time_ms", "achieved_at", "user_id"],
            unique=False,
        )
    op.drop_table("leaderboard_score_counts")
    op.drop_table("leaderboards")
