"""Drafts and scheduled publishing, edit versions, tags, and a full-text search index

- blog.published_at: None for a draft, a future time for a scheduled blog. Blogs already
  written were published when they were written.
- blog.version: counts saves, so a save from a stale form is refused.
- tag and blog_tag: tags, many to many.
- Search: SQLite gets an FTS5 table over title and body, kept in step by triggers; PostgreSQL a
  generated tsvector column with a GIN index. Neither is in the models (they are the
  database's own machinery); blog/migrations/env.py tells autogenerate to leave them alone.
  Note for later migrations: on SQLite, batch-altering the blog table copies it and drops its
  triggers, so such a migration must create the search triggers again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_SEARCH = [
    # An external-content FTS5 table: it indexes blog's text without storing a second copy.
    """
    CREATE VIRTUAL TABLE blog_search USING fts5(
        title, body, content='blog', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER blog_search_insert AFTER INSERT ON blog BEGIN
        INSERT INTO blog_search(rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
    """
    CREATE TRIGGER blog_search_delete AFTER DELETE ON blog BEGIN
        INSERT INTO blog_search(blog_search, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    END
    """,
    """
    CREATE TRIGGER blog_search_update AFTER UPDATE OF title, body ON blog BEGIN
        INSERT INTO blog_search(blog_search, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO blog_search(rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
    "INSERT INTO blog_search(blog_search) VALUES ('rebuild')",
]

POSTGRESQL_SEARCH = [
    # Titles weigh more than bodies in the ranking.
    """
    ALTER TABLE blog ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', body), 'B')
    ) STORED
    """,
    "CREATE INDEX ix_blog_search_vector ON blog USING gin (search_vector)",
]


def upgrade() -> None:
    with op.batch_alter_table("blog") as batch_op:
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    op.execute("UPDATE blog SET published_at = created_at")
    with op.batch_alter_table("blog") as batch_op:
        batch_op.alter_column("version", server_default=None)
        batch_op.create_index("ix_blog_published_at_id", ["published_at", "id"], unique=False)
        batch_op.drop_index("ix_blog_created_at_id")

    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tag_name", "tag", ["name"], unique=True)
    op.create_table(
        "blog_tag",
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["blog_id"], ["blog.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("blog_id", "tag_id"),
    )
    op.create_index("ix_blog_tag_tag_id", "blog_tag", ["tag_id"], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_SEARCH, "postgresql": POSTGRESQL_SEARCH}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("blog_search_insert", "blog_search_delete", "blog_search_update"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE blog_search")
    elif dialect == "postgresql":
        op.drop_index("ix_blog_search_vector", table_name="blog")
        op.drop_column("blog", "search_vector")

    op.drop_index("ix_blog_tag_tag_id", table_name="blog_tag")
    op.drop_table("blog_tag")
    op.drop_index("ix_tag_name", table_name="tag")
    op.drop_table("tag")
    with op.batch_alter_table("blog") as batch_op:
        batch_op.create_index("ix_blog_created_at_id", ["created_at", "id"], unique=False)
        batch_op.drop_index("ix_blog_published_at_id")
        batch_op.drop_column("version")
        batch_op.drop_column("published_at")
