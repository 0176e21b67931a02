"""Full-text search over published blogs with the database's own index.

SQLite searches its FTS5 table `blog_search`, PostgreSQL the `search_vector` column (both made
by migration 0003 and kept in step with every write by the database itself). Both stem English
words, rank titles above bodies, and mark the matching words in what they return.
"""

import re
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import text
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from blog.blogs import PageOfList
from blog.models import Blog, BlogPublic, utc_now

# Private-use characters around each match: no author types them, and they survive escaping,
# so the text is escaped first and only then are they turned into <mark> tags.
MATCH_START = "\ue000"
MATCH_END = "\ue001"
MARKED = re.compile(f"{MATCH_START}(.*?){MATCH_END}", re.DOTALL)
# Markdown's emphasis, code and heading marks and link targets, which mean nothing in a snippet.
MARKDOWN_MARKS = re.compile(r"\*{1,3}|_{2,3}|`+|~~|^#{1,6}\s+|\]\([^)\s]*\)|!?\[", re.MULTILINE)
# Longer queries add nothing a reader meant and only cost the database work.
MAX_TERMS = 12

SQLITE_QUERY = text(
    """
    SELECT blog.id,
           highlight(blog_search, 0, :start, :end) AS title,
           snippet(blog_search, 1, :start, :end, '…', 32) AS snippet
    FROM blog_search JOIN blog ON blog.id = blog_search.rowid
    WHERE blog_search MATCH :query AND blog.published_at <= :now
    ORDER BY bm25(blog_search, 5.0, 1.0), blog.id DESC
    LIMIT :limit OFFSET :offset
    """
)

POSTGRESQL_QUERY = text(
    """
    SELECT blog.id,
           ts_headline('english', blog.title, query, :title_options) AS title,
           ts_headline('english', blog.body, query, :snippet_options) AS snippet
    FROM blog, plainto_tsquery('english', :query) AS query
    WHERE blog.search_vector @@ query AND blog.published_at <= :now
    ORDER BY ts_rank(blog.search_vector, query) DESC, blog.id DESC
    LIMIT :limit OFFSET :offset
    """
)
HEADLINE_MARKS = f'StartSel="{MATCH_START}", StopSel="{MATCH_END}"'


@dataclass(frozen=True)
class SearchResult:
    blog: BlogPublic
    title: Markup
    snippet: Markup


@dataclass(frozen=True)
class SearchPage(PageOfList):
    results: list[SearchResult]


def search_terms(query: str) -> list[str]:
    """The words of what the reader typed; punctuation and search syntax are not theirs to use."""
    return re.findall(r"\w+", query)[:MAX_TERMS]


def search_blogs(*, session: Session, query: str, page: int, page_size: int) -> SearchPage:
    """A page of published blogs matching every word of the query, best match first."""
    terms = search_terms(query)
    if not terms:
        return SearchPage(results=[], number=page, has_next=False)
    parameters = {"now": utc_now(), "limit": page_size + 1, "offset": (page - 1) * page_size}
    if session.get_bind().dialect.name == "postgresql":
        statement = POSTGRESQL_QUERY.bindparams(
            query=" ".join(terms),
            title_options=f"{HEADLINE_MARKS}, HighlightAll=true",
            snippet_options=f"{HEADLINE_MARKS}, MaxWords=40, MinWords=20, ShortWord=2",
            **parameters,
        )
    else:
        # Each word quoted, so FTS5 reads it as a word and never as syntax.
        fts_query = " ".join('"{}"'.format(term.replace('"', "")) for term in terms)
        statement = SQLITE_QUERY.bindparams(
            query=fts_query, start=MATCH_START, end=MATCH_END, **parameters
        )
    rows = session.execute(statement).all()
    blogs = session.exec(
        select(Blog)
        .where(col(Blog.id).in_([row.id for row in rows]))
        .options(selectinload(Blog.author), selectinload(Blog.tags))  # type: ignore[arg-type]
    ).all()
    by_id = {blog.id: blog for blog in blogs}
    results = [
        SearchResult(
            blog=BlogPublic.model_validate(by_id[row.id]),
            title=mark_matches(row.title),
            snippet=mark_matches(MARKDOWN_MARKS.sub("", row.snippet)),
        )
        for row in rows[:page_size]
    ]
    return SearchPage(results=results, number=page, has_next=len(rows) > page_size)


def mark_matches(text_with_markers: str) -> Markup:
    """Escape the text, then wrap each marked match in <mark>; stray markers are dropped."""
    escaped = str(escape(text_with_markers))
    marked = MARKED.sub(r"<mark>\1</mark>", escaped)
    # Safe: everything but the <mark> tags added here was escaped above.
    return Markup(marked.replace(MATCH_START, "").replace(MATCH_END, ""))  # noqa: S704
