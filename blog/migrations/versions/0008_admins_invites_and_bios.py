"""Admins, suspended accounts, invitations and bios

- user.is_admin: set by `blog create-user --admin` and `blog admin grant/revoke`.
- user.suspended_at: set while an admin has suspended the account.
- user.bio: a few lines of plain text about the author.
- invite: one-time registration links (a hash of each token) for closed registration.
- blog.suspended_published_at: where a suspended author's blog keeps its publishing time.

A suspended author's blogs are hidden by moving each one's published_at into
suspended_published_at (NULL left behind), and back on reinstatement. Every public list already
reads "published" as `published_at <= now` from its index, and the counts and blog_tag's copy
(0005's triggers) already follow published_at, so the home page, tags, authors, search, feeds,
the sitemap and every count leave those blogs out with no query changed and no index widened:
still one range of one index, however many blogs a suspended spammer wrote. A flag of its own
would have to lead or filter every one of those indexes and counts instead.

Triggers do the moving, so no write path can forget it:
- user_suspension_holds_blogs: suspending an account holds back its dated blogs (published
  and scheduled; drafts have nothing to hold); reinstating it gives them their times back.
- blog_of_suspended_author_held: a blog given a publishing time while its author is suspended
  (a request that began before the suspension and saved after it) is held at once.

Only columns are added (plain ALTER TABLE ADD COLUMN, never a batch copy, which on SQLite would
drop the triggers of 0003, 0005 and 0006). Nothing here depends on a migration after 0006.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The blog's own UPDATE statements fire 0005's triggers, which move the counts and blog_tag's
# copy of published_at, and 0006's, which bump the page cache's change counter.
SQLITE_TRIGGERS = {
    "user_suspension_holds_blogs": """
        CREATE TRIGGER user_suspension_holds_blogs AFTER UPDATE OF suspended_at ON "user"
        WHEN old.suspended_at IS NULL AND new.suspended_at IS NOT NULL
        BEGIN
            UPDATE blog SET suspended_published_at = published_at, published_at = NULL
            WHERE author_id = new.id AND published_at IS NOT NULL;
        END
    """,
    "user_reinstatement_releases_blogs": """
        CREATE TRIGGER user_reinstatement_releases_blogs AFTER UPDATE OF suspended_at ON "user"
        WHEN old.suspended_at IS NOT NULL AND new.suspended_at IS NULL
        BEGIN
            UPDATE blog SET published_at = suspended_published_at, suspended_published_at = NULL
            WHERE author_id = new.id AND suspended_published_at IS NOT NULL;
        END
    """,
    # SQLite's BEFORE triggers cannot change the new row, so it is corrected after it is written.
    "blog_of_suspended_author_held_insert": """
        CREATE TRIGGER blog_of_suspended_author_held_insert AFTER INSERT ON blog
        WHEN new.published_at IS NOT NULL
            AND (SELECT suspended_at FROM "user" WHERE id = new.author_id) IS NOT NULL
        BEGIN
            UPDATE blog SET suspended_published_at = published_at, published_at = NULL
            WHERE id = new.id;
        END
    """,
    "blog_of_suspended_author_held_update": """
        CREATE TRIGGER blog_of_suspended_author_held_update AFTER UPDATE OF published_at ON blog
        WHEN new.published_at IS NOT NULL
            AND (SELECT suspended_at FROM "user" WHERE id = new.author_id) IS NOT NULL
        BEGIN
            UPDATE blog SET suspended_published_at = published_at, published_at = NULL
            WHERE id = new.id;
        END
    """,
}

POSTGRESQL_FUNCTIONS = {
    "user_suspension_holds_blogs": """
        CREATE FUNCTION user_suspension_holds_blogs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.suspended_at IS NOT NULL THEN
                UPDATE blog SET suspended_published_at = published_at, published_at = NULL
                WHERE author_id = NEW.id AND published_at IS NOT NULL;
            ELSE
                UPDATE blog
                SET published_at = suspended_published_at, suspended_published_at = NULL
                WHERE author_id = NEW.id AND suspended_published_at IS NOT NULL;
            END IF;
            RETURN NULL;
        END
        $$
    """,
    # A BEFORE trigger: the row is written held, so 0005's triggers never count it.
    "blog_of_suspended_author_held": """
        CREATE FUNCTION blog_of_suspended_author_held() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF (SELECT suspended_at FROM "user" WHERE id = NEW.author_id) IS NOT NULL THEN
                NEW.suspended_published_at := NEW.published_at;
                NEW.published_at := NULL;
            END IF;
            RETURN NEW;
        END
        $$
    """,
}
POSTGRESQL_TRIGGERS = {
    "user_suspension_holds_blogs": (
        "user",
        'AFTER UPDATE OF suspended_at ON "user" FOR EACH ROW '
        "WHEN ((OLD.suspended_at IS NULL) <> (NEW.suspended_at IS NULL)) "
        "EXECUTE FUNCTION user_suspension_holds_blogs()",
    ),
    "blog_of_suspended_author_held": (
        "blog",
        "BEFORE INSERT OR UPDATE OF published_at ON blog FOR EACH ROW "
        "WHEN (NEW.published_at IS NOT NULL) EXECUTE FUNCTION blog_of_suspended_author_held()",
    ),
}


def upgrade() -> None:
    op.add_column(
        "user", sa.Column("bio", sa.String(length=1000), nullable=False, server_default="")
    )
    op.add_column(
        "user", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("user", sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "blog", sa.Column("suspended_published_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_invite_token_hash", "invite", ["token_hash"], unique=True)

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
            op.execute(f"DROP TRIGGER {name}")
    elif dialect == "postgresql":
        for name, (table, _) in POSTGRESQL_TRIGGERS.items():
            op.execute(f'DROP TRIGGER {name} ON "{table}"')
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
    # The older schema knows no suspension: held blogs get their publishing times back rather
    # than lose them with the column.
    op.execute(
        "UPDATE blog SET published_at = suspended_published_at "
        "WHERE suspended_published_at IS NOT NULL"
    )

    op.drop_index("ix_invite_token_hash", table_name="invite")
    op.drop_table("invite")
    # Plain ALTER TABLE … DROP COLUMN, SQLite too (3.35 and later): a batch copy of user would
    # drop it, and with foreign keys on, delete every blog through the cascade.
    op.drop_column("blog", "suspended_published_at")
    op.drop_column("user", "suspended_at")
    op.drop_column("user", "is_admin")
    op.drop_column("user", "bio")
