"""Full-text search over published blogs with the database's own index.

SQLite searches its FTS5 table `blog_search`, PostgreSQL the `search_vector` column (both made
by migration 0003 and kept in step with every write by the database itself). Both stem English
words, rank titles above bodies, and mark the matching words in what they return.

Ranking is bounded, so a search costs about the same among a million blogs as among a thousand.
A word in most blogs ("garden" among a million) matches hundreds of thousands of them, and
ranking every match took seconds. So a query ranks only its MAX_CANDIDATES newest matches (by
id: the most recently written), found by reading the index from its newest end and stopping
there; titles and snippets are made for the one page shown. On PostgreSQL those are ranked by
ts_rank (titles weigh more). On SQLite, bm25 ranks them when its words are rare enough: bm25
counts each word's blogs across the whole index for every query (a pass over the word's list,
tens of milliseconds for a word in most of a million blogs), so when the words' lists are long
(estimated from the newest SAMPLE_SIZE blogs) the newest matches are ranked by how often the
words are in their titles instead, newest first among equals.

The trade-off: when more blogs match than MAX_CANDIDATES, an older blog that would rank higher
is not found until more words narrow the search (the page says so), and a common word's matches
come newest first rather than by how often the word occurs. A query of rarer words, and any
query on a smaller site, is ranked whole by bm25, exactly as before.
"""

import json
import re
from dataclasses import dataclass
from functools import cache

from markupsafe import Markup, escape
from sqlalchemy import Integer, Select, String, TextClause, bindparam, column, text
from sqlmodel import Session, func, select

from blog.blogs import BlogSummary, summaries_from, summaries_of
from blog.models import Blog, UTCDateTime, utc_now
from blog.paging import PageOfList, numbered

# Private-use characters around each match: no author types them, and they survive escaping,
# so the text is escaped first and only then are they turned into <mark> tags.
MATCH_START = "\ue000"
MATCH_END = "\ue001"
MARKED = re.compile(f"{MATCH_START}(.*?){MATCH_END}", re.DOTALL)
# Markdown's emphasis, code and heading marks and link targets, which mean nothing in a snippet;
# an asterisk with spaces on both sides (2 * 3) is no emphasis and stays. The lookahead lets the
# engine skip to a mark's first character: three times faster.
MARKDOWN_MARKS = re.compile(
    r"(?=[*_`~#!\[\]])"
    r"(?:\*{1,3}(?=\S)|(?<=\S)\*{1,3}|_{2,3}|`+|~~|^#{1,6}\s+|\]\([^)\s]*\)|!?\[)",
    re.MULTILINE,
)
# Longer queries add nothing a reader meant and only cost the database work.
MAX_TERMS = 12
QUERY_MAX_LENGTH = 200

# The newest matches ranked per query (25 pages of results): enough that a rarer word is
# ranked whole, few enough that ranking a word found in most blogs costs about what ranking all
# the matches of a thousand-blog site does (each costs a few microseconds to rank).
MAX_CANDIDATES = 500
# bm25 ranks a query on SQLite when its words are in this many blogs at most, all told: the
# passes over their lists then take a millisecond or two.
BM25_MAX_BLOGS = 50_000
# How many of the newest blogs tell how common a word is.
SAMPLE_SIZE = 1_000

# 1. the newest matches, from FTS5's index read newest first (rowid is blog.id); 2. those
# ranked, one page taken; 3. that page marked.
SQLITE_CANDIDATES = """
    WITH candidates AS MATERIALIZED (
        SELECT blog.id AS id {title_marks}
        FROM blog_search JOIN blog ON blog.id = blog_search.rowid
        WHERE blog_search MATCH :query AND blog.published_at <= :now
        ORDER BY blog_search.rowid DESC
        LIMIT :candidates
    ),
"""
# The rowid range reaches just the candidates: they are the matches from the oldest of them on.
SQLITE_BY_BM25 = """
    ranked AS MATERIALIZED (
        SELECT blog_search.rowid AS id, bm25(blog_search, 5.0, 1.0) AS rank
        FROM blog_search JOIN blog ON blog.id = blog_search.rowid
        WHERE blog_search MATCH :query
            AND blog_search.rowid >= (SELECT min(id) FROM candidates)
            AND blog.published_at <= :now
        ORDER BY rank, blog_search.rowid DESC
        LIMIT :limit OFFSET :offset
    ),
"""
# How many times the words are in the title, counted from its marked copy as the candidates
# are read.
SQLITE_BY_TITLE = """
    ranked AS MATERIALIZED (
        SELECT id, length(replace(title, :start, '')) - length(title) AS rank
        FROM candidates
        ORDER BY rank, id DESC
        LIMIT :limit OFFSET :offset
    ),
"""
# FTS5 marks a row only while it reads the row from its index. Read one row at a time
# (rowid = ?), each a lookup of every word's list, that is a few milliseconds for a page of
# common words; so the page's range of rowids is read once, and only the page's rows (the `+`
# keeps that test out of FTS5's hands) are marked.
SQLITE_MARKED = """
    marked AS MATERIALIZED (
        SELECT blog_search.rowid AS id,
               highlight(blog_search, 0, :start, :end) AS title,
               snippet(blog_search, 1, :start, :end, '…', 32) AS snippet
        FROM blog_search
        WHERE blog_search MATCH :query
            AND blog_search.rowid >= (SELECT min(id) FROM ranked)
            AND blog_search.rowid <= (SELECT max(id) FROM ranked)
            AND +blog_search.rowid IN (SELECT id FROM ranked)
    )
    SELECT ranked.id, marked.title, marked.snippet,
           (SELECT count(*) FROM candidates) AS candidates,
           row_number() OVER (ORDER BY ranked.rank, ranked.id DESC) AS position
    FROM ranked JOIN marked ON marked.id = ranked.id
"""
SQLITE_QUERY_BY_BM25 = text(
    SQLITE_CANDIDATES.format(title_marks="") + SQLITE_BY_BM25 + SQLITE_MARKED
).bindparams(bindparam("now", type_=UTCDateTime()))
SQLITE_QUERY_BY_TITLE = text(
    SQLITE_CANDIDATES.format(title_marks=", highlight(blog_search, 0, :start, '') AS title")
    + SQLITE_BY_TITLE
    + SQLITE_MARKED
).bindparams(bindparam("now", type_=UTCDateTime()))
NEWEST_ID = select(func.max(Blog.id))
# How many of the newest SAMPLE_SIZE blogs hold each word, all told.
SQLITE_WORDS_IN_SAMPLE = text(
    """
    SELECT count(*)
    FROM json_each(:words) AS word JOIN blog_search ON blog_search MATCH word.value
    WHERE blog_search.rowid > :newest - :sample
    """
)

# The same steps: the planner reads the newest matches backwards along the primary key when
# the words are common, or from the GIN index when they are rare. ts_rank looks at each
# candidate alone (no counts across the index), so it ranks them all; headlines for one page.
POSTGRESQL_QUERY = text(
    """
    WITH candidates AS MATERIALIZED (
        SELECT blog.id
        FROM blog
        WHERE blog.search_vector @@ plainto_tsquery('english', :query)
            AND blog.published_at <= :now
        ORDER BY blog.id DESC
        LIMIT :candidates
    ),
    ranked AS (
        SELECT blog.id, ts_rank(blog.search_vector, plainto_tsquery('english', :query)) AS rank
        FROM candidates JOIN blog ON blog.id = candidates.id
        ORDER BY rank DESC, blog.id DESC
        LIMIT :limit OFFSET :offset
    )
    SELECT ranked.id,
           ts_headline('english', blog.title, plainto_tsquery('english', :query),
                       :title_options) AS title,
           ts_headline('english', blog.body, plainto_tsquery('english', :query),
                       :snippet_options) AS snippet,
           (SELECT count(*) FROM candidates) AS candidates,
           row_number() OVER (ORDER BY ranked.rank DESC, ranked.id DESC) AS position
    FROM ranked JOIN blog ON blog.id = ranked.id
    """
).bindparams(bindparam("now", type_=UTCDateTime()))
HEADLINE_MARKS = f'StartSel="{MATCH_START}", StopSel="{MATCH_END}"'
# Each query gives its page of blogs in rank order (`position`), their marked title and
# snippet, and how many candidates it ranked.
FOUND_COLUMNS = {
    "id": Integer,
    "title": String,
    "snippet": String,
    "candidates": Integer,
    "position": Integer,
}


@dataclass(frozen=True)
class SearchResult:
    blog: BlogSummary
    title: Markup
    snippet: Markup


@dataclass(frozen=True)
class SearchPage(PageOfList):
    results: list[SearchResult]
    # More blogs match than are ranked: these are the best of the newest MAX_CANDIDATES.
    limited: bool = False


def reader_query(typed: str) -> str:
    """What a reader typed, as it is searched for and shown back: trimmed, and cut (not
    refused) at QUERY_MAX_LENGTH, long enough for any real question."""
    return typed.strip()[:QUERY_MAX_LENGTH]


def search_terms(query: str) -> list[str]:
    """The words of what the reader typed; punctuation and search syntax are not theirs to use."""
    return re.findall(r"\w+", query)[:MAX_TERMS]


def search_blogs(*, session: Session, query: str, page: int, page_size: int) -> SearchPage:
    """A page of published blogs matching every word of the query, best match first."""
    terms = search_terms(query)
    if not terms or (page - 1) * page_size >= MAX_CANDIDATES:
        return _search_page([], page, has_next=False)
    parameters = {
        "now": utc_now(),
        "candidates": MAX_CANDIDATES,
        "limit": page_size + 1,
        "offset": (page - 1) * page_size,
    }
    if session.get_bind().dialect.name == "postgresql":
        query_text = POSTGRESQL_QUERY
        parameters |= {
            "query": " ".join(terms),
            "title_options": f"{HEADLINE_MARKS}, HighlightAll=true",
            "snippet_options": f"{HEADLINE_MARKS}, MaxWords=40, MinWords=20, ShortWord=2",
        }
    else:
        # Each word quoted, so FTS5 reads it as a word and never as syntax.
        words = ['"{}"'.format(term.replace('"', "")) for term in terms]
        parameters |= {"query": " ".join(words), "start": MATCH_START, "end": MATCH_END}
        by_bm25 = _bm25_is_cheap(session, words)
        query_text = SQLITE_QUERY_BY_BM25 if by_bm25 else SQLITE_QUERY_BY_TITLE
    rows = session.connection().execute(_with_summaries(query_text), parameters).all()
    results = [
        SearchResult(
            blog=blog,
            title=mark_matches(title),
            snippet=mark_matches(MARKDOWN_MARKS.sub("", snippet)),
        )
        for blog, (*_, title, snippet, _candidates) in zip(
            summaries_from(rows[:page_size]), rows, strict=False
        )
    ]
    limited = bool(rows) and rows[0][-1] >= MAX_CANDIDATES
    return _search_page(results, page, has_next=len(rows) > page_size, limited=limited)


@cache
def _with_summaries(query_text: TextClause) -> Select:
    """The query's page of blogs as summaries, in one statement with it (built once a query):
    each row is a summary's columns, then the marked title and snippet and the candidates."""
    found = query_text.columns(*(column(name, type_) for name, type_ in FOUND_COLUMNS.items()))
    found = found.subquery("found")
    return summaries_of(found, "title", "snippet", "candidates").order_by(found.c.position)


def _search_page(
    results: list[SearchResult], page: int, *, has_next: bool, limited: bool = False
) -> SearchPage:
    links = numbered(page, has_next=has_next)
    return SearchPage(
        results=results,
        limited=limited,
        number=links.number,
        previous_query=links.previous_query,
        next_query=links.next_query,
    )


def _bm25_is_cheap(session: Session, words: list[str]) -> bool:
    """Whether bm25's passes over these words' lists are short: on a site of BM25_MAX_BLOGS
    blogs or fewer always; on a larger one when the words are in that many blogs all told,
    estimated from how many of the newest SAMPLE_SIZE hold them."""
    newest = session.connection().execute(NEWEST_ID).scalar_one() or 0
    if newest <= BM25_MAX_BLOGS:
        return True
    in_sample = session.execute(
        SQLITE_WORDS_IN_SAMPLE.bindparams(
            words=json.dumps(words), newest=newest, sample=SAMPLE_SIZE
        )
    ).scalar_one()
    return in_sample * newest / SAMPLE_SIZE <= BM25_MAX_BLOGS


def mark_matches(text_with_markers: str) -> Markup:
    """Escape the text, then wrap each marked match in <mark>; stray markers are dropped."""
    escaped = str(escape(text_with_markers))
    marked = MARKED.sub(r"<mark>\1</mark>", escaped)
    # Safe: everything but the <mark> tags added here was escaped above.
    return Markup(marked.replace(MATCH_START, "").replace(MATCH_END, ""))  # noqa: S704
