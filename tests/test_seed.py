"""Demo content: what `blog.seed` writes is what the database's own triggers would have written.

On SQLite the seed drops the per-row triggers (search index, kept counts, change counter) while
it loads and does their work in bulk; these tests replay a seed's rows, one statement per
table, through the triggers into a second database and compare everything they keep.
"""

import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlmodel import Session, select

from blog import seed as seed_module
from blog.migrate import upgrade
from blog.models import Blog, normalize_tag
from blog.seed import seed
from tests.conftest import engine_on
from tests.test_counts import assert_kept_counts_are_right

BLOGS = 300
# The rows, as the replay copies them: everything but what the triggers keep.
COPIED_COLUMNS = {
    "user": "id, name, email, password_hash, created_at",
    "tag": "id, name",
    "blog": "id, title, body, author_id, created_at, updated_at, published_at, version",
    "blog_tag": "blog_id, tag_id, published_at",
}
# What the triggers keep, each read the same way from both databases.
KEPT = {
    "authors' counts": 'SELECT id, dated_blog_count FROM "user" ORDER BY id',
    "tags' counts": "SELECT id, dated_blog_count FROM tag ORDER BY id",
    "tag links and their times": "SELECT * FROM blog_tag ORDER BY blog_id, tag_id",
    "change counter": "SELECT * FROM change_counter",
    "search index": "SELECT term, doc, col, offset FROM search_terms ORDER BY doc, col, offset",
}
TRIGGERS = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file at the newest schema, whatever database the suite runs on."""
    path = tmp_path_factory.mktemp("seed") / "template.db"
    with engine_on(f"sqlite:///{path}") as engine:
        upgrade(engine)
    return path


def _copy(template: Path, path: Path) -> Path:
    shutil.copyfile(template, path)
    return path


def _seed_file(path: Path, blogs: int = BLOGS) -> None:
    with engine_on(f"sqlite:///{path}") as engine:
        seed(engine, users=7, blogs=blogs, random_seed=5)


def _replay(seeded: Path, into: Path) -> None:
    """Copy the seeded rows into `into` with plain INSERTs, so every trigger fires there."""
    with closing(sqlite3.connect(into)) as connection:
        connection.execute("ATTACH DATABASE ? AS seeded", (str(seeded),))
        with connection:
            for table, columns in COPIED_COLUMNS.items():
                connection.execute(
                    f'INSERT INTO "{table}" ({columns}) '  # noqa: S608  (our own names)
                    f'SELECT {columns} FROM seeded."{table}" ORDER BY {columns.split(",")[0]}'
                )
        connection.execute("DETACH DATABASE seeded")


def _read(path: Path, query: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(
            "CREATE VIRTUAL TABLE temp.search_terms "
            "USING fts5vocab(main, 'blog_search', 'instance')"
        )
        return connection.execute(query).fetchall()


@pytest.fixture(scope="module")
def seeded_and_replayed(sqlite_template, tmp_path_factory) -> tuple[Path, Path]:
    """A seed of BLOGS blogs over several transactions, and its rows replayed elsewhere."""
    folder = tmp_path_factory.mktemp("replay")
    seeded = _copy(sqlite_template, folder / "seeded.db")
    replayed = _copy(sqlite_template, folder / "replayed.db")
    with pytest.MonkeyPatch.context() as patch:
        # 8 batches in 3 transactions, the last one short.
        patch.setattr(seed_module, "BATCH_SIZE", 40)
        patch.setattr(seed_module, "BATCHES_PER_TRANSACTION", 3)
        _seed_file(seeded)
    _replay(seeded, replayed)
    return seeded, replayed


@pytest.mark.parametrize("kept", KEPT)
def test_seed_keeps_what_the_triggers_would_have_kept(seeded_and_replayed, kept):
    seeded, replayed = seeded_and_replayed

    assert _read(seeded, KEPT[kept]) == _read(replayed, KEPT[kept])


def test_seed_writes_every_blog_asked_for(seeded_and_replayed):
    seeded, _ = seeded_and_replayed

    assert _read(seeded, "SELECT count(*), min(id), max(id) FROM blog") == [(BLOGS, 1, BLOGS)]


def test_seeded_search_index_matches_the_blogs(seeded_and_replayed):
    seeded, _ = seeded_and_replayed
    with closing(sqlite3.connect(seeded)) as connection:
        # Raises if the index and the blog table disagree.
        connection.execute(
            "INSERT INTO blog_search (blog_search, rank) VALUES ('integrity-check', 1)"
        )


def test_seed_leaves_the_triggers_as_the_migrations_made_them(sqlite_template, seeded_and_replayed):
    seeded, _ = seeded_and_replayed

    assert _read(seeded, TRIGGERS) == _read(sqlite_template, TRIGGERS)


def test_seed_numbers_blogs_in_the_order_they_were_written(seeded_and_replayed):
    seeded, _ = seeded_and_replayed

    times = [time for (time,) in _read(seeded, "SELECT published_at FROM blog ORDER BY id")]

    assert times == sorted(times)


def test_seed_loads_in_bulk_on_the_current_schema(sqlite_template):
    """A migration that adds a trigger to user, blog, tag or blog_tag must teach blog.seed
    what it does (or the seed falls back to the triggers, and is slow again)."""
    with engine_on(f"sqlite:///{sqlite_template}") as engine:
        assert seed_module._bulk_load_knows_the_triggers(engine)


def test_seed_keeps_the_triggers_on_when_there_is_one_it_does_not_know(sqlite_template, tmp_path):
    path = _copy(sqlite_template, tmp_path / "blog.db")
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(
            "CREATE TABLE seen (blog_id INTEGER);"
            "CREATE TRIGGER blog_seen AFTER INSERT ON blog "
            "BEGIN INSERT INTO seen VALUES (new.id); END;"
        )

    _seed_file(path, blogs=30)

    assert _read(path, "SELECT count(*) FROM seen") == [(30,)]


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded_database(request, sqlite_template, tmp_path) -> Iterator[Session]:
    """A session on a database seeded with BLOGS blogs, on each backend."""
    if request.param == "sqlite":
        database_url = f"sqlite:///{_copy(sqlite_template, tmp_path / 'blog.db')}"
    else:
        database_url = request.getfixturevalue("migrated_postgres")
    with engine_on(database_url) as engine:
        seed(engine, users=7, blogs=BLOGS, random_seed=5)
        with Session(engine) as session:
            yield session


def test_seeded_counts_and_tag_links_agree_with_a_recount(seeded_database):
    assert_kept_counts_are_right(seeded_database)


def test_each_seeded_blog_is_tagged_with_its_topic(seeded_database):
    for blog in seeded_database.exec(select(Blog)).all():
        topic = re.match(r"This is about \*\*(.+?)\*\*", blog.body).group(1)
        assert normalize_tag(topic) in {tag.name for tag in blog.tags}, blog.id
