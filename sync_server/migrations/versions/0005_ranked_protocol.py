"""Ranked protocol (issue 16): seed order, ended sessions, review, served variants, models run by the server.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("game_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_as", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("review", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("plausibility", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("fast_answers", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("ix_game_sessions_mode_status", ["mode", "status"], unique=False)
    # Sessions finished before this revision ended by being played through.
    op.execute("UPDATE game_sessions SET ended_as = 'finished' WHERE mode = 'ranked' AND status = 'finished'")
    with op.batch_alter_table("game_sessions", schema=None) as batch_op:
        batch_op.alter_column("fast_answers", server_default=None)
    with op.batch_alter_table("session_rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_sha256", sa.String(length=64), nullable=True))
    with op.batch_alter_table("ranked_images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("ai_models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("onnx", sa.LargeBinary(), nullable=True))
    # The server runs the model on every served variant now: no table can hold those answers.
    op.drop_table("predictions")


def downgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("model_id", sa.String(length=100), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("probabilities", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["ai_models.id"], name=op.f("fk_predictions_model_id_ai_models"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("model_id", "image_sha256", name=op.f("pk_predictions")),
    )
    with op.batch_alter_table("ai_models", schema=None) as batch_op:
        batch_op.drop_column("onnx")
        batch_op.drop_column("card")
    with op.batch_alter_table("ranked_images", schema=None) as batch_op:
        batch_op.drop_column("data")
    with op.batch_alter_table("session_rounds", schema=None) as batch_op:
        batch_op.drop_column("source_sha256")
    with op.batch_alter_table("game_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_game_sessions_mode_status")
        batch_op.drop_column("fast_answers")
        batch_op.drop_column("plausibility")
        batch_op.drop_column("review")
        batch_op.drop_column("ended_as")
