"""A change counter for the page cache

change_counter holds one row whose value goes up with every insert, update or delete of what
pages show (users, blogs, tags and their links). The database bumps it itself, by triggers, so
no write path (a route, the `blog` command, a cascade) can forget to; the page cache reads it to
know whether a kept page is still current.

The upsert keeps counting even if the row has been removed (tests empty every table).
Note for later migrations: on SQLite, batch-altering one of these tables copies it and drops its
triggers, so such a migration must create them again (as for the search triggers of 0003).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED_TABLES = ("user", "blog", "tag", "blog_tag")
OPERATIONS = ("INSERT", "UPDATE", "DELETE")
BUMP = (
    "INSERT INTO change_counter (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = change_counter.value + 1"
)


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO change_counter (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        # One bump per statement, not per row: a bulk write costs one update of the counter.
        op.execute(
            f"""
            CREATE FUNCTION bump_change_counter() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {BUMP}; RETURN NULL; END $$
            """
        )
        for table in WATCHED_TABLES:
            op.execute(
                f'CREATE TRIGGER "{table}_changed" AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_change_counter()"
            )
        return
    # SQLite has only row triggers.
    for table in WATCHED_TABLES:
        for operation in OPERATIONS:
            op.execute(
                f'CREATE TRIGGER "{table}_{operation.lower()}_changed" AFTER {operation} '
                f'ON "{table}" BEGIN {BUMP}; END'
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED_TABLES:
            op.execute(f'DROP TRIGGER "{table}_changed" ON "{table}"')
        op.execute("DROP FUNCTION bump_change_counter()")
    else:
        for table in WATCHED_TABLES:
            for operation in OPERATIONS:
                op.execute(f'DROP TRIGGER "{table}_{operation.lower()}_changed"')
    op.drop_table("change_counter")
