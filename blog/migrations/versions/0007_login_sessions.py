"""Login sessions kept in the database

login_session: one row per logged-in browser, named by its cookie. The cookie holds a random
token and the row only the token's SHA-256, so logging out (or signing a device out, or changing
the password) ends a session everywhere, copies of the cookie included. Rows go with their user
(ON DELETE CASCADE) and, once unused for as long as a cookie lives, at the next login.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_session",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_session_token_hash", "login_session", ["token_hash"], unique=True)
    op.create_index("ix_login_session_user_id", "login_session", ["user_id"])
    op.create_index("ix_login_session_last_seen_at", "login_session", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_login_session_last_seen_at", table_name="login_session")
    op.drop_index("ix_login_session_user_id", table_name="login_session")
    op.drop_index("ix_login_session_token_hash", table_name="login_session")
    op.drop_table("login_session")
