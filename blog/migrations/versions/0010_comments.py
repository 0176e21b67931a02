"""Comments

- comment: readers' comments on blogs, from accounts (author_id) or, when GUEST_COMMENTS is on,
  from guests (guest_name). `status` is approved (shown), pending (waiting for the blog's
  author or an admin) or spam (caught by the honeypot: never shown). A comment goes with its
  blog and with its author's account (ON DELETE CASCADE).
- blog.comments_open: its author may close comments on a blog; open unless they do.
- blog.comment_count: how many approved comments a blog has, kept by triggers on every insert,
  update and delete of comment (cascades included), so list cards show it from the row they
  already read, with no count and no join.
- comment joins the tables whose writes bump the page cache's change counter (0006), so a new
  comment shows on the very next request.
- A suspended account's comments are hidden with its blogs (0008): triggers move its approved
  comments to status 'held' when it is suspended and back when it is reinstated, and hold one
  approved while it is suspended (a pending comment approved meanwhile), so the page, the feed
  and the count leave them out with no query changed.

Only columns are added to blog (plain ALTER TABLE ADD COLUMN, never a batch copy, which on
SQLite would drop the triggers of 0003, 0005 and 0006).

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Counted: an approved comment. An update changes a count only when a comment is approved or
# stops being so, or (no route does this) moves to another blog.
SQLITE_TRIGGERS = {
    "user_suspension_holds_comments": """
        CREATE TRIGGER user_suspension_holds_comments AFTER UPDATE OF suspended_at ON "user"
        WHEN old.suspended_at IS NULL AND new.suspended_at IS NOT NULL
        BEGIN
            UPDATE comment SET status = 'held' WHERE author_id = new.id AND status = 'approved';
        END
    """,
    "user_reinstatement_releases_comments": """
        CREATE TRIGGER user_reinstatement_releases_comments AFTER UPDATE OF suspended_at ON "user"
        WHEN old.suspended_at IS NOT NULL AND new.suspended_at IS NULL
        BEGIN
            UPDATE comment SET status = 'approved' WHERE author_id = new.id AND status = 'held';
        END
    """,
    # SQLite's BEFORE triggers cannot change the new row, so it is corrected after it is
    # written; comment_counts_update then takes back what comment_counts_insert counted.
    "comment_of_suspended_author_held_insert": """
        CREATE TRIGGER comment_of_suspended_author_held_insert AFTER INSERT ON comment
        WHEN new.status = 'approved'
            AND (SELECT suspended_at FROM "user" WHERE id = new.author_id) IS NOT NULL
        BEGIN
            UPDATE comment SET status = 'held' WHERE id = new.id;
        END
    """,
    "comment_of_suspended_author_held_update": """
        CREATE TRIGGER comment_of_suspended_author_held_update AFTER UPDATE OF status ON comment
        WHEN new.status = 'approved'
            AND (SELECT suspended_at FROM "user" WHERE id = new.author_id) IS NOT NULL
        BEGIN
            UPDATE comment SET status = 'held' WHERE id = new.id;
        END
    """,
    "comment_counts_insert": """
        CREATE TRIGGER comment_counts_insert AFTER INSERT ON comment
        WHEN new.status = 'approved'
        BEGIN
            UPDATE blog SET comment_count = comment_count + 1 WHERE id = new.blog_id;
        END
    """,
    "comment_counts_delete": """
        CREATE TRIGGER comment_counts_delete AFTER DELETE ON comment
        WHEN old.status = 'approved'
        BEGIN
            UPDATE blog SET comment_count = comment_count - 1 WHERE id = old.blog_id;
        END
    """,
    "comment_counts_update": """
        CREATE TRIGGER comment_counts_update AFTER UPDATE OF status, blog_id ON comment
        WHEN (old.status = 'approved') <> (new.status = 'approved') OR old.blog_id <> new.blog_id
        BEGIN
            UPDATE blog SET comment_count = comment_count - 1
            WHERE id = old.blog_id AND old.status = 'approved';
            UPDATE blog SET comment_count = comment_count + 1
            WHERE id = new.blog_id AND new.status = 'approved';
        END
    """,
}

# OLD and NEW are looked at in nested IFs, never both in one expression: plpgsql does not
# short-circuit (as in 0005).
POSTGRESQL_FUNCTIONS = {
    "user_suspension_holds_comments": """
        CREATE FUNCTION user_suspension_holds_comments() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.suspended_at IS NOT NULL THEN
                UPDATE comment SET status = 'held'
                WHERE author_id = NEW.id AND status = 'approved';
            ELSE
                UPDATE comment SET status = 'approved'
                WHERE author_id = NEW.id AND status = 'held';
            END IF;
            RETURN NULL;
        END
        $$
    """,
    # A BEFORE trigger: the row is written held, so comment_counts never counts it.
    "comment_of_suspended_author_held": """
        CREATE FUNCTION comment_of_suspended_author_held() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF (SELECT suspended_at FROM "user" WHERE id = NEW.author_id) IS NOT NULL THEN
                NEW.status := 'held';
            END IF;
            RETURN NEW;
        END
        $$
    """,
    "comment_counts": """
        CREATE FUNCTION comment_counts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                IF OLD.status = 'approved' THEN
                    UPDATE blog SET comment_count = comment_count - 1 WHERE id = OLD.blog_id;
                END IF;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                IF NEW.status = 'approved' THEN
                    UPDATE blog SET comment_count = comment_count + 1 WHERE id = NEW.blog_id;
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
    """,
}
POSTGRESQL_TRIGGERS = {
    "user_suspension_holds_comments": (
        "user",
        'AFTER UPDATE OF suspended_at ON "user" FOR EACH ROW '
        "WHEN ((OLD.suspended_at IS NULL) <> (NEW.suspended_at IS NULL)) "
        "EXECUTE FUNCTION user_suspension_holds_comments()",
    ),
    "comment_of_suspended_author_held": (
        "comment",
        "BEFORE INSERT OR UPDATE OF status ON comment FOR EACH ROW "
        "WHEN (NEW.status = 'approved' AND NEW.author_id IS NOT NULL) "
        "EXECUTE FUNCTION comment_of_suspended_author_held()",
    ),
    "comment_counts_insert": (
        "comment",
        "AFTER INSERT ON comment FOR EACH ROW WHEN (NEW.status = 'approved') "
        "EXECUTE FUNCTION comment_counts()",
    ),
    "comment_counts_delete": (
        "comment",
        "AFTER DELETE ON comment FOR EACH ROW WHEN (OLD.status = 'approved') "
        "EXECUTE FUNCTION comment_counts()",
    ),
    "comment_counts_update": (
        "comment",
        "AFTER UPDATE OF status, blog_id ON comment FOR EACH ROW "
        "WHEN ((OLD.status = 'approved') <> (NEW.status = 'approved') "
        "OR OLD.blog_id <> NEW.blog_id) EXECUTE FUNCTION comment_counts()",
    ),
    # 0006's function: one bump of the page cache's counter per statement.
    "comment_changed": (
        "comment",
        "AFTER INSERT OR UPDATE OR DELETE ON comment "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_change_counter()",
    ),
}

# As 0006 does for the other tables: SQLite has only row triggers.
BUMP = (
    "INSERT INTO change_counter (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = change_counter.value + 1"
)
OPERATIONS = ("INSERT", "UPDATE", "DELETE")
SQLITE_TRIGGERS |= {
    f"comment_{operation.lower()}_changed": (
        f'CREATE TRIGGER "comment_{operation.lower()}_changed" AFTER {operation} '
        f"ON comment BEGIN {BUMP}; END"
    )
    for operation in OPERATIONS
}


def upgrade() -> None:
    op.add_column(
        "blog",
        sa.Column("comments_open", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column(
        "blog",
        sa.Column("comment_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_table(
        "comment",
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("guest_name", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["blog_id"], ["blog.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_comment_author_id", "comment", ["author_id"])
    op.create_index("ix_comment_blog_id_status_id", "comment", ["blog_id", "status", "id"])
    op.create_index("ix_comment_status_id", "comment", ["status", "id"])

    dialect = op.get_bind().dialect.name
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
            op.execute(f'DROP TRIGGER "{name}"')
    elif dialect == "postgresql":
        for name, (table, _) in POSTGRESQL_TRIGGERS.items():
            op.execute(f'DROP TRIGGER {name} ON "{table}"')
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")

    op.drop_index("ix_comment_status_id", table_name="comment")
    op.drop_index("ix_comment_blog_id_status_id", table_name="comment")
    op.drop_index("ix_comment_author_id", table_name="comment")
    op.drop_table("comment")
    # Plain ALTER TABLE … DROP COLUMN, SQLite too (3.35 and later): a batch copy of blog would
    # drop its triggers.
    op.drop_column("blog", "comment_count")
    op.drop_column("blog", "comments_open")
