"""Board rows carry what a page shows: the player's public id and display name, the session's public id and rounds.

A page, a rank and the neighbours are then range scans of one table, with no join to users or game sessions
(PostgreSQL planned the three-table neighbourhood in more time than it ran it). A display-name change updates the
player's rows and bumps their boards' versions (sync_server/leaderboards.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    (
        "player_public_id",
        sa.String(length=36),
        "SELECT u.public_id FROM users u WHERE u.id = leaderboard_entries.user_id",
    ),
    (
        "display_name",
        sa.String(length=40),
        "SELECT u.display_name FROM users u WHERE u.id = leaderboard_entries.user_id",
    ),
    ("rounds", sa.Integer(), "SELECT g.rounds_played FROM game_sessions g WHERE g.id = leaderboard_entries.session_id"),
    (
        "session_public_id",
        sa.String(length=36),
        "SELECT g.public_id FROM game_sessions g WHERE g.id = leaderboard_entries.session_id",
    ),
)


def upgrade() -> None:
    for name, type_, _source in _COLUMNS:
        op.add_column("leaderboard_entries", sa.Column(name, type_, nullable=True))
    assignments = ", ".join(f"{name} = ({source})" for name, _type, source in _COLUMNS)
    op.execute(f"UPDATE leaderboard_entries SET {assignments}")
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        for name, type_, _source in _COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("leaderboard_entries", schema=None) as batch_op:
        for name, _type, _source in reversed(_COLUMNS):
            batch_op.drop_column(name)
