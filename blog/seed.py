"""Realistic demo content, generated from a fixed random seed so every run writes the same.

Blogs are numbered in the order they were written, over the last two years, as on a real site.

On SQLite most of a large seed's time is the database's own work: the per-row triggers of
migrations 0003, 0005 and 0006 (the search index, the kept counts, the change counter), and
tokenizing the text for the search index. So there the blogs are written in transactions of a
few tens of thousands, each of which drops the triggers that fire on its inserts, writes its rows
with the driver's executemany, does in a few set-based statements what those triggers would have
done row by row, and creates them again, from their own SQL, before it commits: no other
connection ever sees the tables without them, and the result is what the triggers would have
written (tests/test_seed.py replays a seed through them and compares). Meanwhile another thread
makes the next batch of blogs. Other databases (PostgreSQL) keep their triggers on and are
written a batch at a time.
"""

import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import chain, islice
from typing import NamedTuple, TypeVar

from sqlalchemy import Connection, Engine, func, insert, select
from sqlmodel import Session

from blog.models import Blog, BlogTagLink, Tag, User, UTCDateTime, normalize_tag, utc_now
from blog.security import hash_password

Row = TypeVar("Row")

DEMO_PASSWORD = "demo-password"  # noqa: S105  (printed for demo logins)
# Rows per INSERT batch (and per step of the progress bar): large enough to be fast, small
# enough to keep memory flat.
BATCH_SIZE = 2_000
# Batches per SQLite transaction (50,000 blogs, some 60 MB of text): the site's own writes wait
# for at most one of them (seconds), and the write-ahead log never holds more than one.
BATCHES_PER_TRANSACTION = 25
# SQLite's page cache for the seeding connection, in KiB (its default is 2 MiB): what the load
# reads again (the indexes' newest pages, the batch the search index reads back) stays in
# memory; with the default, twice the system time. Fixed, so memory does not grow with the count.
SEEDING_CACHE_KIB = 65_536
# Bodies are made of sentences drawn from a pool made once per seed (2**16 sentences, some
# 6 MB): making each of a blog's dozen sentences word by word took most of the Python time.
SENTENCE_POOL_BITS = 16
# The blogs were written over this span, up to now.
WRITING_SPAN = timedelta(days=2 * 365)

FIRST_NAMES = (
    "Ada Alan Grace Linus Margaret Dennis Barbara Ken Frances Edsger Radia Tim Hedy Guido Sophie "
    "Donald Katherine John Mary Niklaus Anita Bjarne Karen James Joan Leslie Lynn Yukihiro Shafi"
).split()
LAST_NAMES = (
    "Lovelace Turing Hopper Torvalds Hamilton Ritchie Liskov Thompson Allen Dijkstra Perlman "
    "Berners-Lee Lamarr van-Rossum Wilson Knuth Johnson McCarthy Shaw Wirth Borg Stroustrup "
    "Jones Gosling Clarke Lamport Conway Matsumoto Goldwasser"
).split()
TOPICS = (
    "gardening, sourdough, cycling, tea, compilers, birdwatching, chess, typography, databases, "
    "hiking, pottery, jazz, astronomy, knitting, photography, coffee, climbing, poetry, sailing, "
    "woodworking, beekeeping, running, maps, origami, cooking, open source, trains, mushrooms"
).split(", ")
TITLE_SHAPES = (
    "What I learned about {topic} this year",
    "A beginner's guide to {topic}",
    "Why {topic} matters more than you think",
    "Notes on {topic}",
    "{Topic}, slowly",
    "Ten small lessons from {topic}",
    "The quiet joy of {topic}",
    "Getting started with {topic} on a budget",
    "My {topic} mistakes, so you can skip them",
    "{Topic}: a weekend experiment",
)
EXTRA_TAGS = ("notes", "beginners", "weekend", "lessons", "slow-living")
WORDS = (
    "the a small quiet early morning patient careful simple honest long short bright slow "
    "practice habit idea question garden kitchen notebook window friend weekend winter summer "
    "learn notice keep try write change measure wonder begin finish share remember build read "
    "often rarely always together slowly again because although while after before until "
    "surprisingly, honestly, finally, first, mostly"
).split()

# The triggers migrations 0003, 0005, 0006, 0008 and 0010 put on the tables the seed writes.
# Those in CAUGHT_UP_TRIGGERS fire on its writes (an insert into blog or blog_tag, and the
# update of an author's or a tag's count that those make): the SQLite bulk load drops them while
# it writes and does their work itself (INDEX_FOR_SEARCH, COUNT_CATCH_UP, BUMP_CHANGE_COUNTER).
# A trigger not named here (a later migration's) may do work the bulk load knows nothing of, so
# when the database has one, the seed keeps the triggers on instead.
SEEDED_TABLES = ("user", "blog", "tag", "blog_tag")
CAUGHT_UP_TRIGGERS = (
    "blog_search_insert",
    "blog_counts_insert",
    "blog_insert_changed",
    "blog_tag_counts_insert",
    "blog_tag_insert_changed",
    "user_update_changed",
    "tag_update_changed",
    # 0008: holds back a new blog whose author is suspended. The seed's authors are its own,
    # new and never suspended, so for its blogs there is nothing to do.
    "blog_of_suspended_author_held_insert",
)
KNOWN_TRIGGERS = frozenset(
    {
        *CAUGHT_UP_TRIGGERS,
        "blog_search_delete",
        "blog_search_update",
        "blog_counts_delete",
        "blog_counts_update",
        "blog_tag_follows_blog",
        "blog_tag_counts_delete",
        "blog_tag_counts_update",
        # 0008's others fire only on a suspension, a reinstatement or a publishing time changed.
        "blog_of_suspended_author_held_update",
        "user_suspension_holds_blogs",
        "user_reinstatement_releases_blogs",
        # 0010's on user: they move a suspended account's comments, which a seed has none of.
        "user_suspension_holds_comments",
        "user_reinstatement_releases_comments",
        *(
            f"{table}_{operation}_changed"
            for table in SEEDED_TABLES
            for operation in ("insert", "update", "delete")
        ),
    }
)

INSERT_BLOG = (
    "INSERT INTO blog (id, title, body, author_id, created_at, updated_at, published_at, version) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 1)"
)
# Written with the blog's time, as blog_tag_counts_insert would copy it.
INSERT_LINK = "INSERT INTO blog_tag (blog_id, tag_id, published_at) VALUES (?, ?, ?)"
# What the caught-up triggers do for each new row, done for all the rows from :first_id on.
# blog_search_insert: the new blogs go into the search index.
INDEX_FOR_SEARCH = (
    "INSERT INTO blog_search (rowid, title, body) "
    "SELECT id, title, body FROM blog WHERE id >= :first_id"
)
COUNT_CATCH_UP = (
    # blog_counts_insert: each author's count of blogs with a publishing time.
    'UPDATE "user" SET dated_blog_count = dated_blog_count + counted.blogs '
    "FROM (SELECT author_id, count(*) AS blogs FROM blog "
    "WHERE id >= :first_id AND published_at IS NOT NULL GROUP BY author_id) AS counted "
    'WHERE "user".id = counted.author_id',
    # blog_tag_counts_insert: each tag's (its copy of the blog's time into the link has nothing
    # to do: the links were written with it).
    "UPDATE tag SET dated_blog_count = dated_blog_count + counted.blogs "
    "FROM (SELECT tag_id, count(*) AS blogs FROM blog_tag "
    "WHERE blog_id >= :first_id AND published_at IS NOT NULL GROUP BY tag_id) AS counted "
    "WHERE tag.id = counted.tag_id",
)
# The change counter's triggers bump it once per row inserted or updated (migration 0006): for
# each blog, its row and its author's count; for each tag link, its row and its tag's count
# (every seeded blog has a publishing time, so every one is counted).
BUMPS_PER_ROW = 2
BUMP_CHANGE_COUNTER = (
    "INSERT INTO change_counter (id, value) VALUES (1, :bumps) "
    "ON CONFLICT (id) DO UPDATE SET value = change_counter.value + :bumps"
)


class DemoBlog(NamedTuple):
    title: str
    body: str
    author_id: int
    written: datetime
    tag_names: tuple[str, ...]


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 18))
    return " ".join(words).capitalize().rstrip(",") + "."


def _drawn(rng: random.Random, sentences: list[str], count: int) -> list[str]:
    return [sentences[rng.getrandbits(SENTENCE_POOL_BITS)] for _ in range(count)]


def _body(rng: random.Random, topic: str, sentences: list[str]) -> str:
    """A few paragraphs of Markdown, sometimes with a heading or a list, as authors write."""
    paragraphs = [
        " ".join(_drawn(rng, sentences, rng.randint(2, 5))) for _ in range(rng.randint(2, 5))
    ]
    paragraphs[0] = f"This is about **{topic}**. {paragraphs[0]}"
    if rng.random() < 0.3:
        paragraphs.insert(1, "## What I noticed")
    if rng.random() < 0.3:
        paragraphs.append("\n".join(f"- {sentence}" for sentence in _drawn(rng, sentences, 3)))
    return "\n\n".join(paragraphs)


def _demo_blogs(
    rng: random.Random, *, count: int, author_ids: list[int], now: datetime
) -> Iterator[DemoBlog]:
    """`count` blogs in the order they were written: each gets its own equal stretch of the
    last WRITING_SPAN, and a random moment in it, so ids follow writing time as on a real site.

    Each is tagged with its topic, and now and then with one more tag.
    """
    sentences = [_sentence(rng) for _ in range(2**SENTENCE_POOL_BITS)]
    topic_tags = {topic: normalize_tag(topic) for topic in TOPICS}
    start = now - WRITING_SPAN
    for number in range(count):
        topic = rng.choice(TOPICS)
        tag_names = (topic_tags[topic],)
        if rng.random() < 0.25:
            tag_names += (rng.choice(EXTRA_TAGS),)
        yield DemoBlog(
            title=rng.choice(TITLE_SHAPES).format(topic=topic, Topic=topic.title()),
            body=_body(rng, topic, sentences),
            author_id=rng.choice(author_ids),
            written=start + WRITING_SPAN * ((number + rng.random()) / count),
            tag_names=tag_names,
        )


def _tag_ids(session: Session, names: list[str]) -> dict[str, int]:
    """The ids of these tags, created where missing."""
    wanted = {normalize_tag(name) for name in names}
    existing = dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(wanted))).all())
    missing = [{"name": name} for name in sorted(wanted - existing.keys())]
    if missing:
        for name, tag_id in session.execute(insert(Tag).returning(Tag.name, Tag.id), missing):
            existing[name] = tag_id
    return existing


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while batch := list(islice(rows, size)):
        yield batch


def seed(
    engine: Engine,
    *,
    users: int,
    blogs: int,
    random_seed: int = 2026,
    progress: Callable[[int], None] = lambda done: None,
) -> None:
    """Add `users` demo authors and `blogs` blogs spread among them over the last two years."""
    rng = random.Random(random_seed)  # noqa: S311  (demo text, not secrets)
    password_hash = hash_password(DEMO_PASSWORD)
    now = utc_now()
    # The authors and tags are few: written the ordinary way, the triggers counting them.
    with Session(engine) as session:
        # Numbered after the users already there, so seeding twice adds new demo users.
        first_number = (session.scalar(select(func.max(User.id))) or 0) + 1
        user_rows = [
            {
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES).replace('-', ' ')}",
                "email": f"demo.{number}@example.com",
                "password_hash": password_hash,
                "created_at": now - timedelta(days=800),
            }
            for number in range(first_number, first_number + users)
        ]
        author_ids: list[int] = []
        for batch in _batches(iter(user_rows), BATCH_SIZE):
            author_ids += session.scalars(insert(User).returning(User.id), batch).all()
        tag_ids = _tag_ids(session, [*TOPICS, *EXTRA_TAGS])
        session.commit()

    demo_blogs = _demo_blogs(rng, count=blogs, author_ids=author_ids, now=now)
    if engine.dialect.name == "sqlite" and _bulk_load_knows_the_triggers(engine):
        _load_into_sqlite(engine, demo_blogs, tag_ids=tag_ids, progress=progress)
    else:
        _write_with_triggers(engine, demo_blogs, tag_ids=tag_ids, progress=progress)


def _write_with_triggers(
    engine: Engine,
    demo_blogs: Iterator[DemoBlog],
    *,
    tag_ids: dict[str, int],
    progress: Callable[[int], None],
) -> None:
    """A batch at a time, the database's triggers doing their work on every row."""
    # The ids come back in the order the rows were given, to be matched with their tags.
    insert_blogs = insert(Blog).returning(Blog.id, sort_by_parameter_order=True)
    with Session(engine) as session:
        for batch in _batches(demo_blogs, BATCH_SIZE):
            rows = [
                {
                    "title": blog.title,
                    "body": blog.body,
                    "author_id": blog.author_id,
                    "created_at": blog.written,
                    "updated_at": blog.written,
                    "published_at": blog.written,
                }
                for blog in batch
            ]
            blog_ids = session.scalars(insert_blogs, rows).all()
            links = [
                {"blog_id": blog_id, "tag_id": tag_ids[name], "published_at": blog.written}
                for blog_id, blog in zip(blog_ids, batch, strict=True)
                for name in blog.tag_names
            ]
            session.execute(insert(BlogTagLink), links)
            # A batch at a time: the database's counters (migration 0005) are rows written on
            # every insert, and PostgreSQL slows down on a row updated many thousands of times
            # in one transaction.
            session.commit()
            progress(len(batch))


def _seeded_tables_triggers(connection: Connection) -> list[tuple[str, str]]:
    """The name and SQL of every trigger on the tables the seed writes, in creation order."""
    tables = ", ".join(f"'{table}'" for table in SEEDED_TABLES)
    query = (
        "SELECT name, sql FROM sqlite_master "  # noqa: S608  (our own table names)
        f"WHERE type = 'trigger' AND tbl_name IN ({tables}) ORDER BY rowid"
    )
    return [(name, sql) for name, sql in connection.exec_driver_sql(query)]


def _bulk_load_knows_the_triggers(engine: Engine) -> bool:
    with engine.connect() as connection:
        return {name for name, _ in _seeded_tables_triggers(connection)} == KNOWN_TRIGGERS


def _load_into_sqlite(
    engine: Engine,
    demo_blogs: Iterator[DemoBlog],
    *,
    tag_ids: dict[str, int],
    progress: Callable[[int], None],
) -> None:
    with (
        engine.connect() as connection,
        _pragmas(connection, cache_size=-SEEDING_CACHE_KIB),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed") as maker,
    ):
        dialect = connection.dialect
        to_text = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        batches = _made_ahead(maker, _sqlite_batches(demo_blogs, tag_ids=tag_ids, to_text=to_text))
        while (first := next(batches, None)) is not None:
            with connection.begin():
                # The write lock now, waiting (busy_timeout) for another writer to finish,
                # rather than failing when the first write finds the snapshot stale.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                _load_one_transaction(
                    connection,
                    chain([first], islice(batches, BATCHES_PER_TRANSACTION - 1)),
                    progress=progress,
                )


def _sqlite_batches(
    demo_blogs: Iterator[DemoBlog],
    *,
    tag_ids: dict[str, int],
    to_text: Callable[[datetime], str],
) -> Iterator[list[tuple]]:
    """The blogs a batch at a time, as SQLite is given them: title, body, author, time as text,
    and the ids of the tags."""
    for batch in _batches(demo_blogs, BATCH_SIZE):
        yield [
            (
                blog.title,
                blog.body,
                blog.author_id,
                to_text(blog.written),
                [tag_ids[name] for name in blog.tag_names],
            )
            for blog in batch
        ]


def _made_ahead(maker: ThreadPoolExecutor, items: Iterator[Row]) -> Iterator[Row]:
    """The items, each next one made in `maker`'s thread while the caller uses this one."""
    next_item = maker.submit(next, items, None)
    while (item := next_item.result()) is not None:
        next_item = maker.submit(next, items, None)
        yield item


def _load_one_transaction(
    connection: Connection, batches: Iterator[list[tuple]], *, progress: Callable[[int], None]
) -> None:
    """Write these blogs and their links with the caught-up triggers dropped, do their work,
    and create them again (from their own SQL), all inside the caller's transaction."""
    dropped = [
        sql for name, sql in _seeded_tables_triggers(connection) if name in CAUGHT_UP_TRIGGERS
    ]
    for name in CAUGHT_UP_TRIGGERS:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    first_id = connection.exec_driver_sql("SELECT coalesce(max(id), 0) + 1 FROM blog").scalar()
    blog_id = not_indexed = first_id
    rows_written = 0
    for batch in batches:
        # The previous batch goes into the search index while the next one is being made:
        # SQLite lets the other thread run while it tokenizes.
        connection.exec_driver_sql(INDEX_FOR_SEARCH, {"first_id": not_indexed})
        not_indexed = blog_id
        blog_rows, link_rows = [], []
        for title, body, author_id, time, blog_tag_ids in batch:
            blog_rows.append((blog_id, title, body, author_id, time, time, time))
            link_rows += [(blog_id, tag_id, time) for tag_id in blog_tag_ids]
            blog_id += 1
        connection.exec_driver_sql(INSERT_BLOG, blog_rows)
        connection.exec_driver_sql(INSERT_LINK, link_rows)
        rows_written += len(blog_rows) + len(link_rows)
        progress(len(batch))
    connection.exec_driver_sql(INDEX_FOR_SEARCH, {"first_id": not_indexed})
    for statement in COUNT_CATCH_UP:
        connection.exec_driver_sql(statement, {"first_id": first_id})
    connection.exec_driver_sql(BUMP_CHANGE_COUNTER, {"bumps": BUMPS_PER_ROW * rows_written})
    for sql in dropped:
        connection.exec_driver_sql(sql)


@contextmanager
def _pragmas(connection: Connection, **values: int) -> Iterator[None]:
    """Set these pragmas of this connection while the block runs, and restore them after (the
    connection goes back to its engine's pool)."""
    before = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in values}
    for name, value in values.items():
        connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    connection.commit()
    try:
        yield
    finally:
        for name, value in before.items():
            connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
        connection.commit()
