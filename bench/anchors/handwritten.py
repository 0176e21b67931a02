"""The hand-written pages: what plain FastAPI + Jinja2 + stdlib sqlite3 pages cost.

`/`: the same 20 newest published blogs with their authors and tags as the blog's home page,
read from the same database file with one SQL query on one read-only connection, in an
`async def` route (no thread pool), rendered by a template of similar size. It is the
"reasonable code, no framework layers" yardstick the blog's dynamic pages are compared with.

`/search?q=`: the same work as the blog's search on SQLite, by hand: FTS5's newest 500
published matches ranked by bm25 (titles weighing 5), one page of 20 with the words marked in
the title and a snippet, the author and tags, in one query; a result shows what the blog's
does (its title, author, date, reading time and snippet). A page that ranks full text does
several times the work of a home page; this is the yardstick for that work.
"""

import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

PAGE_SIZE = 20
EXCERPT_CHARACTERS = 280

# The blog stores UTC timestamps as "YYYY-MM-DD HH:MM:SS.ffffff" text, which sorts by time.
NEWEST_BLOGS = """
    SELECT blog.id, blog.title, blog.body, blog.published_at, user.id, user.name,
           (SELECT group_concat(tag.name, ' ') FROM blog_tag JOIN tag ON tag.id = blog_tag.tag_id
            WHERE blog_tag.blog_id = blog.id)
    FROM blog JOIN user ON user.id = blog.author_id
    WHERE blog.published_at <= ?
    ORDER BY blog.published_at DESC, blog.id DESC
    LIMIT ?
"""

# 1. the newest 500 published matches; 2. those ranked (the matches from the oldest of them
# on: FTS5 reads a rowid range fast and an IN list very slowly), a page taken; 3. that page
# marked, read back from the index over the page's rowid range only.
SEARCH = """
    WITH candidates AS MATERIALIZED (
        SELECT blog_search.rowid AS id
        FROM blog_search JOIN blog ON blog.id = blog_search.rowid
        WHERE blog_search MATCH :query AND blog.published_at <= :now
        ORDER BY blog_search.rowid DESC
        LIMIT 500
    ),
    ranked AS MATERIALIZED (
        SELECT blog_search.rowid AS id, bm25(blog_search, 5.0, 1.0) AS rank
        FROM blog_search JOIN blog ON blog.id = blog_search.rowid
        WHERE blog_search MATCH :query AND blog.published_at <= :now
            AND blog_search.rowid >= (SELECT min(id) FROM candidates)
        ORDER BY rank, blog_search.rowid DESC
        LIMIT :page_size
    ),
    marked AS MATERIALIZED (
        SELECT blog_search.rowid AS id,
               highlight(blog_search, 0, char(57344), char(57345)) AS title,
               snippet(blog_search, 1, char(57344), char(57345), '…', 32) AS snippet
        FROM blog_search
        WHERE blog_search MATCH :query
            AND blog_search.rowid BETWEEN (SELECT min(id) FROM ranked)
                                      AND (SELECT max(id) FROM ranked)
            AND +blog_search.rowid IN (SELECT id FROM ranked)
    )
    SELECT blog.id, marked.title, marked.snippet, blog.body, blog.published_at, user.id,
           user.name,
           (SELECT group_concat(tag.name, ' ') FROM blog_tag JOIN tag ON tag.id = blog_tag.tag_id
            WHERE blog_tag.blog_id = blog.id)
    FROM ranked
    JOIN marked ON marked.id = ranked.id
    JOIN blog ON blog.id = ranked.id
    JOIN user ON user.id = blog.author_id
    ORDER BY ranked.rank, ranked.id DESC
"""
# The private-use characters FTS5 put around each match become <mark> once the text is escaped.
MARKED = re.compile("\ue000(.*?)\ue001", re.DOTALL)

database = sqlite3.connect(
    f"file:{os.environ['BENCH_DATABASE']}?mode=ro", uri=True, check_same_thread=False
)
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape()
)
home_template = templates.get_template("handwritten.html")
search_template = templates.get_template("handwritten-search.html")
app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/", response_class=HTMLResponse)
async def home() -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    blogs = [
        {
            "id": blog_id,
            "title": title,
            "excerpt": body[:EXCERPT_CHARACTERS],
            "published": published_at[:10],
            "minutes": max(1, len(body.split()) // 200),
            "author_id": author_id,
            "author": author,
            "tags": (tags or "").split(),
        }
        for blog_id, title, body, published_at, author_id, author, tags in database.execute(
            NEWEST_BLOGS, (now, PAGE_SIZE)
        )
    ]
    return home_template.render(blogs=blogs)


def marked(text: str) -> Markup:
    return Markup(MARKED.sub(r"<mark>\1</mark>", str(escape(text))))  # noqa: S704


@app.get("/search", response_class=HTMLResponse)
async def search(q: str = "") -> str:
    words = re.findall(r"\w+", q)[:12]
    results = []
    if words:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        query = " ".join(f'"{word}"' for word in words)
        rows = database.execute(SEARCH, {"query": query, "now": now, "page_size": PAGE_SIZE})
        results = [
            {
                "id": blog_id,
                "title": marked(title),
                "snippet": marked(snippet),
                "published": published_at[:10],
                "minutes": max(1, len(body.split()) // 200),
                "author_id": author_id,
                "author": author,
                "tags": (tags or "").split(),
            }
            for blog_id, title, snippet, body, published_at, author_id, author, tags in rows
        ]
    return search_template.render(query=q, results=results)
