"""Download catalog: packs and models published for the game's "Get more packs" (sync_server/downloads.py).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "download_packs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("licence", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("image_size", sa.JSON(), nullable=True),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_packs")),
    )
    op.create_table(
        "download_models",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("family", sa.String(length=50), nullable=False),
        sa.Column("variant", sa.String(length=100), nullable=False),
        sa.Column("difficulty", sa.String(length=10), nullable=True),
        sa.Column("test_accuracy", sa.Float(), nullable=True),
        sa.Column("macro_f1", sa.Float(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("onnx_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_id"],
            ["download_packs.id"],
            name=op.f("fk_download_models_pack_id_download_packs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_models")),
    )
    with op.batch_alter_table("download_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_download_models_pack_id"), ["pack_id"], unique=False)
    op.create_table(
        "download_files",
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["pack_id"],
            ["download_packs.id"],
            name=op.f("fk_download_files_pack_id_download_packs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pack_id", "path", name=op.f("pk_download_files")),
    )
    with op.batch_alter_table("download_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_download_files_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("download_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_files_sha256"))
    op.drop_table("download_files")
    with op.batch_alter_table("download_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_models_pack_id"))
    op.drop_table("download_models")
    op.drop_table("download_packs")
