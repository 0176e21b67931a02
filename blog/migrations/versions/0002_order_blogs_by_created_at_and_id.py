"""Order blogs by created_at and id from one index

The home and author pages sort by (created_at, id); one index on both replaces the index on
created_at alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_blog_created_at_id", "blog", ["created_at", "id"], unique=False)
    op.drop_index("ix_blog_created_at", table_name="blog")


def downgrade() -> None:
    op.create_index("ix_blog_created_at", "blog", ["created_at"], unique=False)
    op.drop_index("ix_blog_created_at_id", table_name="blog")
