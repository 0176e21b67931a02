"""Attempts, counted for throttling

attempt: one row per counted action (an account opened from an address), so limits hold across
every worker and machine. Rows older than a day are deleted as new ones are written.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attempt_action_key_created_at", "attempt", ["action", "key", "created_at"])
    op.create_index("ix_attempt_created_at", "attempt", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_attempt_created_at", table_name="attempt")
    op.drop_index("ix_attempt_action_key_created_at", table_name="attempt")
    op.drop_table("attempt")
