"""Realistic demo content, generated from a fixed random seed so every run writes the same."""

import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import islice

from sqlalchemy import Engine, func, insert, select
from sqlmodel import Session

from blog.models import Blog, BlogTagLink, Tag, User, normalize_tag, utc_now
from blog.security import hash_password

DEMO_PASSWORD = "demo-password"  # noqa: S105  (printed for demo logins)
# Rows per INSERT statement batch: large enough to be fast, small enough to keep memory flat.
BATCH_SIZE = 2_000

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


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 18))
    return " ".join(words).capitalize().rstrip(",") + "."


def _body(rng: random.Random, topic: str) -> str:
    """A few paragraphs of Markdown, sometimes with a heading or a list, as authors write."""
    paragraphs = []
    for _ in range(rng.randint(2, 5)):
        sentences = [_sentence(rng) for _ in range(rng.randint(2, 5))]
        if not paragraphs:
            sentences.insert(0, f"This is about **{topic}**.")
        paragraphs.append(" ".join(sentences))
    if rng.random() < 0.3:
        paragraphs.insert(1, "## What I noticed")
    if rng.random() < 0.3:
        paragraphs.append("\n".join(f"- {_sentence(rng)}" for _ in range(3)))
    return "\n\n".join(paragraphs)


def _tag_ids(session: Session, names: list[str]) -> dict[str, int]:
    """The ids of these tags, created where missing."""
    wanted = {normalize_tag(name) for name in names}
    existing = dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(wanted))).all())
    missing = [{"name": name} for name in sorted(wanted - existing.keys())]
    if missing:
        for name, tag_id in session.execute(insert(Tag).returning(Tag.name, Tag.id), missing):
            existing[name] = tag_id
    return existing


def _batches(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
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

        # Each blog is tagged with its topic, and now and then with one more.
        tag_ids = _tag_ids(session, [*TOPICS, *EXTRA_TAGS])
        session.commit()
        topics: list[str] = []

        def blog_rows() -> Iterator[dict]:
            for _ in range(blogs):
                topic = rng.choice(TOPICS)
                topics.append(topic)
                written = now - timedelta(seconds=rng.randrange(2 * 365 * 24 * 3600))
                yield {
                    "title": rng.choice(TITLE_SHAPES).format(topic=topic, Topic=topic.title()),
                    "body": _body(rng, topic),
                    "author_id": rng.choice(author_ids),
                    "created_at": written,
                    "updated_at": written,
                    "published_at": written,
                }

        for batch in _batches(blog_rows(), BATCH_SIZE):
            blog_ids = session.scalars(insert(Blog).returning(Blog.id), batch).all()
            links = []
            for blog_id, topic, row in zip(blog_ids, topics, batch, strict=True):
                # The blog's time is copied to its links by the database (migration 0005);
                # given here too, SQLite's trigger has nothing left to correct.
                link = {"blog_id": blog_id, "published_at": row["published_at"]}
                links.append({**link, "tag_id": tag_ids[normalize_tag(topic)]})
                if rng.random() < 0.25:
                    links.append({**link, "tag_id": tag_ids[rng.choice(EXTRA_TAGS)]})
            session.execute(insert(BlogTagLink), links)
            topics.clear()
            # A batch at a time: the database's counters (migration 0005) are rows written on
            # every insert, and PostgreSQL slows down on a row updated many thousands of times
            # in one transaction.
            session.commit()
            progress(len(batch))
