"""Crowd statistics (issue 20): per-image, per-pack and per-model aggregates folded in as sessions end.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(*, image: bool = True) -> list[sa.Column]:
    columns = [
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
    ]
    if image:
        columns.append(sa.Column("image_sha256", sa.String(length=64), nullable=False))
    return columns


def _fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def _counter(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "crowd_seen",
        *_key(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _fk("crowd_seen"),
        sa.PrimaryKeyConstraint("pack_id", "source", "image_sha256", "user_id", name=op.f("pk_crowd_seen")),
    )
    op.create_table(
        "crowd_pack_players",
        *_key(image=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _fk("crowd_pack_players"),
        sa.PrimaryKeyConstraint("pack_id", "source", "user_id", name=op.f("pk_crowd_pack_players")),
    )
    op.create_table(
        "crowd_packs",
        *_key(image=False),
        *(_counter(c) for c in ("players", "answers", "correct")),
        sa.PrimaryKeyConstraint("pack_id", "source", name=op.f("pk_crowd_packs")),
    )
    op.create_table(
        "crowd_images",
        *_key(),
        sa.Column("label", sa.String(length=100), nullable=False),
        *(_counter(c) for c in ("players", "correct", "timeouts", "ai_correct")),
        sa.Column("accuracy_ppm", sa.Integer(), nullable=True),
        sa.Column("fool_ppm", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("pack_id", "source", "image_sha256", name=op.f("pk_crowd_images")),
    )
    # The galleries walk these instead of sorting every image of a pack.
    op.create_index(
        "ix_crowd_images_hardest", "crowd_images", ["pack_id", "source", "accuracy_ppm", "image_sha256"], unique=False
    )
    op.create_index(
        "ix_crowd_images_fool", "crowd_images", ["pack_id", "source", "fool_ppm", "image_sha256"], unique=False
    )
    op.create_table(
        "crowd_options",
        *_key(),
        sa.Column("option", sa.String(length=100), nullable=False),
        *(_counter(c) for c in ("shown", "chosen")),
        sa.PrimaryKeyConstraint("pack_id", "source", "image_sha256", "option", name=op.f("pk_crowd_options")),
    )
    op.create_table(
        "crowd_times",
        *_key(),
        sa.Column("bin_ms", sa.Integer(), nullable=False),
        _counter("count"),
        sa.PrimaryKeyConstraint("pack_id", "source", "image_sha256", "bin_ms", name=op.f("pk_crowd_times")),
    )
    op.create_table(
        "crowd_confusion",
        *_key(image=False),
        sa.Column("truth", sa.String(length=100), nullable=False),
        sa.Column("answer", sa.String(length=100), nullable=False),
        _counter("count"),
        sa.PrimaryKeyConstraint("pack_id", "source", "truth", "answer", name=op.f("pk_crowd_confusion")),
    )
    op.create_table(
        "crowd_models",
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=100), nullable=False),
        *(_counter(c) for c in ("both_right", "human_only", "model_only", "both_wrong")),
        sa.PrimaryKeyConstraint("pack_id", "model_id", name=op.f("pk_crowd_models")),
    )


def downgrade() -> None:
    for table in (
        "crowd_models",
        "crowd_confusion",
        "crowd_times",
        "crowd_options",
        "crowd_images",
        "crowd_packs",
        "crowd_pack_players",
        "crowd_seen",
    ):
        op.drop_table(table)
