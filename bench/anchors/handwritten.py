"""The hand-written page: what a plain FastAPI + Jinja2 + stdlib sqlite3 home page costs.

The same 20 newest published blogs with their authors and tags as the blog's home page, read
from the same database file with one SQL query on one read-only connection, in an `async def`
route (no thread pool), rendered by a template of similar size. It is the "reasonable code,
no framework layers" yardstick the blog's dynamic pages are compared with.
"""

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

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

database = sqlite3.connect(
    f"file:{os.environ['BENCH_DATABASE']}?mode=ro", uri=True, check_same_thread=False
)
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape()
)
home_template = templates.get_template("handwritten.html")
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
