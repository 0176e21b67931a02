"""Alembic's entry point: migrate the connection blog.migrate hands over, or the URL's database."""

from alembic import context
from sqlmodel import SQLModel

from blog import models  # noqa: F401  (registers every table on SQLModel.metadata)
from blog.db import make_engine
from blog.migrate import include_object

config = context.config
target_metadata = SQLModel.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can alter a table only by copying it; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        run_migrations(connection)
    engine.dispose()
