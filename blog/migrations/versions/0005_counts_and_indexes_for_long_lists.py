"""Counts kept on write, and indexes that page through long lists without reading them whole

- user.dated_blog_count, tag.dated_blog_count: how many blogs with a publishing time
  (published or scheduled; never drafts) an author wrote, a tag carries. Triggers keep them on
  every insert, update and delete, cascades included; readers subtract the few blogs still
  scheduled, which time alone publishes (blog.users, blog.blogs).
- blog_tag.published_at: the blog's published_at, copied by triggers when a link is made or the
  blog's time changes, so a tag's page reads its newest published blogs from one index,
  (tag_id, published_at, blog_id), which replaces the one on tag_id alone.
- blog (author_id, published_at, id) replaces the index on author_id alone: an author's page,
  newest first, from the index.
- user.name_key, lower(name) computed by the database, with (name_key, id): /users in name
  order a page at a time. SQLite adds it as a VIRTUAL column (ALTER TABLE cannot add a STORED
  one); the index holds its values either way.

Like the search triggers of 0003, these are the database's own machinery: a later migration
that batch-alters blog, blog_tag, user or tag on SQLite (which copies the table and drops its
triggers) must create them again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Counted: a row whose published_at is set. An update changes a count only when that changes
# (a draft published, a blog unpublished) or the row moves to another author or tag.
SQLITE_TRIGGERS = {
    "blog_counts_insert": """
        CREATE TRIGGER blog_counts_insert AFTER INSERT ON blog
        WHEN new.published_at IS NOT NULL
        BEGIN
            UPDATE "user" SET dated_blog_count = dated_blog_count + 1 WHERE id = new.author_id;
        END
    """,
    "blog_counts_delete": """
        CREATE TRIGGER blog_counts_delete AFTER DELETE ON blog
        WHEN old.published_at IS NOT NULL
        BEGIN
            UPDATE "user" SET dated_blog_count = dated_blog_count - 1 WHERE id = old.author_id;
        END
    """,
    "blog_counts_update": """
        CREATE TRIGGER blog_counts_update AFTER UPDATE OF published_at, author_id ON blog
        WHEN (old.published_at IS NULL) <> (new.published_at IS NULL)
            OR old.author_id <> new.author_id
        BEGIN
            UPDATE "user" SET dated_blog_count = dated_blog_count - 1
            WHERE id = old.author_id AND old.published_at IS NOT NULL;
            UPDATE "user" SET dated_blog_count = dated_blog_count + 1
            WHERE id = new.author_id AND new.published_at IS NOT NULL;
        END
    """,
    # Fires blog_tag_counts_update for each link, which moves the tags' counts.
    "blog_tag_follows_blog": """
        CREATE TRIGGER blog_tag_follows_blog AFTER UPDATE OF published_at ON blog
        WHEN old.published_at IS NOT new.published_at
        BEGIN
            UPDATE blog_tag SET published_at = new.published_at WHERE blog_id = new.id;
        END
    """,
    # SQLite's BEFORE triggers cannot change the new row, so the link is corrected after it is
    # written (a no-op when it was written with the blog's time, as the seed does); that update
    # fires blog_tag_counts_update, which counts the difference.
    "blog_tag_counts_insert": """
        CREATE TRIGGER blog_tag_counts_insert AFTER INSERT ON blog_tag
        BEGIN
            UPDATE blog_tag
            SET published_at = (SELECT published_at FROM blog WHERE id = new.blog_id)
            WHERE blog_id = new.blog_id AND tag_id = new.tag_id
                AND published_at IS NOT (SELECT published_at FROM blog WHERE id = new.blog_id);
            UPDATE tag SET dated_blog_count = dated_blog_count + 1
            WHERE id = new.tag_id AND new.published_at IS NOT NULL;
        END
    """,
    "blog_tag_counts_delete": """
        CREATE TRIGGER blog_tag_counts_delete AFTER DELETE ON blog_tag
        WHEN old.published_at IS NOT NULL
        BEGIN
            UPDATE tag SET dated_blog_count = dated_blog_count - 1 WHERE id = old.tag_id;
        END
    """,
    "blog_tag_counts_update": """
        CREATE TRIGGER blog_tag_counts_update AFTER UPDATE OF published_at, tag_id ON blog_tag
        WHEN (old.published_at IS NULL) <> (new.published_at IS NULL) OR old.tag_id <> new.tag_id
        BEGIN
            UPDATE tag SET dated_blog_count = dated_blog_count - 1
            WHERE id = old.tag_id AND old.published_at IS NOT NULL;
            UPDATE tag SET dated_blog_count = dated_blog_count + 1
            WHERE id = new.tag_id AND new.published_at IS NOT NULL;
        END
    """,
}

# The same on PostgreSQL: one function per table, its triggers split by event so an update
# runs it only when a count (or, for blog, the links' copy) has to change. OLD and NEW are
# looked at in nested IFs, never both in one expression: plpgsql does not short-circuit.
POSTGRESQL_FUNCTIONS = {
    "blog_counts": """
        CREATE FUNCTION blog_counts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                IF OLD.published_at IS NOT NULL THEN
                    UPDATE "user" SET dated_blog_count = dated_blog_count - 1
                    WHERE id = OLD.author_id;
                END IF;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                IF NEW.published_at IS NOT NULL THEN
                    UPDATE "user" SET dated_blog_count = dated_blog_count + 1
                    WHERE id = NEW.author_id;
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
    """,
    "blog_tag_follows_blog": """
        CREATE FUNCTION blog_tag_follows_blog() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE blog_tag SET published_at = NEW.published_at WHERE blog_id = NEW.id;
            RETURN NULL;
        END
        $$
    """,
    "blog_tag_published_at": """
        CREATE FUNCTION blog_tag_published_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.published_at := (SELECT published_at FROM blog WHERE id = NEW.blog_id);
            RETURN NEW;
        END
        $$
    """,
    "blog_tag_counts": """
        CREATE FUNCTION blog_tag_counts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                IF OLD.published_at IS NOT NULL THEN
                    UPDATE tag SET dated_blog_count = dated_blog_count - 1 WHERE id = OLD.tag_id;
                END IF;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                IF NEW.published_at IS NOT NULL THEN
                    UPDATE tag SET dated_blog_count = dated_blog_count + 1 WHERE id = NEW.tag_id;
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
    """,
}
POSTGRESQL_TRIGGERS = {
    "blog_counts_insert": (
        "blog",
        "AFTER INSERT ON blog FOR EACH ROW EXECUTE FUNCTION blog_counts()",
    ),
    "blog_counts_delete": (
        "blog",
        "AFTER DELETE ON blog FOR EACH ROW EXECUTE FUNCTION blog_counts()",
    ),
    "blog_counts_update": (
        "blog",
        "AFTER UPDATE OF published_at, author_id ON blog FOR EACH ROW "
        "WHEN ((OLD.published_at IS NULL) <> (NEW.published_at IS NULL) "
        "OR OLD.author_id <> NEW.author_id) EXECUTE FUNCTION blog_counts()",
    ),
    "blog_tag_follows_blog": (
        "blog",
        "AFTER UPDATE OF published_at ON blog FOR EACH ROW "
        "WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at) "
        "EXECUTE FUNCTION blog_tag_follows_blog()",
    ),
    "blog_tag_published_at": (
        "blog_tag",
        "BEFORE INSERT ON blog_tag FOR EACH ROW EXECUTE FUNCTION blog_tag_published_at()",
    ),
    "blog_tag_counts_insert": (
        "blog_tag",
        "AFTER INSERT ON blog_tag FOR EACH ROW EXECUTE FUNCTION blog_tag_counts()",
    ),
    "blog_tag_counts_delete": (
        "blog_tag",
        "AFTER DELETE ON blog_tag FOR EACH ROW EXECUTE FUNCTION blog_tag_counts()",
    ),
    "blog_tag_counts_update": (
        "blog_tag",
        "AFTER UPDATE OF published_at, tag_id ON blog_tag FOR EACH ROW "
        "WHEN ((OLD.published_at IS NULL) <> (NEW.published_at IS NULL) "
        "OR OLD.tag_id <> NEW.tag_id) EXECUTE FUNCTION blog_tag_counts()",
    ),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column(
        "user",
        sa.Column(
            "name_key",
            sa.String(length=100),
            sa.Computed("lower(name)", persisted=dialect != "sqlite"),
            nullable=True,
        ),
    )
    op.add_column(
        "user",
        sa.Column("dated_blog_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column(
        "tag",
        sa.Column("dated_blog_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("blog_tag", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))

    # The data first, the indexes next (each built once, and used by the counts below), the
    # triggers last.
    op.execute(
        "UPDATE blog_tag SET published_at = "
        "(SELECT published_at FROM blog WHERE blog.id = blog_tag.blog_id)"
    )
    op.create_index("ix_user_name_key_id", "user", ["name_key", "id"])
    op.create_index(
        "ix_blog_tag_tag_id_published_at_blog_id", "blog_tag", ["tag_id", "published_at", "blog_id"]
    )
    op.drop_index("ix_blog_tag_tag_id", table_name="blog_tag")
    op.create_index(
        "ix_blog_author_id_published_at_id", "blog", ["author_id", "published_at", "id"]
    )
    op.drop_index("ix_blog_author_id", table_name="blog")
    op.execute(
        'UPDATE "user" SET dated_blog_count = (SELECT count(*) FROM blog '
        'WHERE blog.author_id = "user".id AND blog.published_at IS NOT NULL)'
    )
    op.execute(
        "UPDATE tag SET dated_blog_count = (SELECT count(*) FROM blog_tag "
        "WHERE blog_tag.tag_id = tag.id AND blog_tag.published_at IS NOT NULL)"
    )
    op.create_index("ix_tag_dated_blog_count", "tag", ["dated_blog_count"])

    if dialect == "sqlite":
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_FUNCTIONS.values():
            op.execute(statement)
        for name, (_, definition) in POSTGRESQL_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    elif dialect == "postgresql":
        for name, (table, _) in POSTGRESQL_TRIGGERS.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")

    op.drop_index("ix_tag_dated_blog_count", table_name="tag")
    op.create_index("ix_blog_author_id", "blog", ["author_id"], unique=False)
    op.drop_index("ix_blog_author_id_published_at_id", table_name="blog")
    op.create_index("ix_blog_tag_tag_id", "blog_tag", ["tag_id"], unique=False)
    op.drop_index("ix_blog_tag_tag_id_published_at_blog_id", table_name="blog_tag")
    op.drop_index("ix_user_name_key_id", table_name="user")
    # Plain ALTER TABLE … DROP COLUMN, SQLite too (3.35 and later): a batch copy of user would
    # drop it, and with foreign keys on, delete every blog through the cascade.
    op.drop_column("blog_tag", "published_at")
    op.drop_column("tag", "dated_blog_count")
    op.drop_column("user", "dated_blog_count")
    op.drop_column("user", "name_key")
