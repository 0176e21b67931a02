"""Atom feeds, the sitemap and robots.txt: what feed readers and search engines read.

Only published blogs ever appear here; the queries in blog.blogs see to that.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import PlainTextResponse, Response

from blog.blogs import (
    AuthorName,
    BlogSummary,
    newest_blogs,
    popular_tags,
    sitemap_blog_parts,
    sitemap_blogs,
)
from blog.comments import CommentView, newest_comments
from blog.db import SessionDep
from blog.deps import ListedAuthor, ShownBlog, TagInAddress
from blog.models import BlogStatus, User, UserPublic, slug_for
from blog.paging import MAX_ID
from blog.text import excerpt, render_markdown
from blog.urls import absolute_url, absolute_url_for, url_path
from blog.users import sitemap_author_parts, sitemap_authors

router = APIRouter()

FEED_SIZE = 20
COMMENT_FEED_SIZE = 50
ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
SITEMAP_MEDIA_TYPE = "application/xml; charset=utf-8"
# The sitemaps.org protocol allows 50,000 addresses in one file. /sitemap.xml is an index of
# smaller ones: the site's pages and tags, then authors and blogs in parts of SITEMAP_PART_SIZE
# ids each (so at most that many addresses), each read as one range of the primary key: a part
# costs what the whole sitemap of a thousand-blog site did, however many blogs there are.
SITEMAP_MAX_URLS = 50_000
SITEMAP_PART_SIZE = 1_000
SITEMAP_MAX_TAGS = 1_000
SitemapPart = Annotated[int, Path(ge=1, le=MAX_ID // SITEMAP_PART_SIZE + 1)]
# An empty feed still needs an `updated`; a fixed one keeps its ETag stable.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
# Characters XML 1.0 forbids even as references; a title or body holding one would break
# the whole feed for every reader.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Pages for people, not crawlers: these routes' own addresses, then patterns and prefixes
# that take in many (rules for crawlers, which no route name can give). The `$` keeps
# /blogs/1/editing-tips (a slug) crawlable.
ROBOTS_DISALLOWED_ROUTES = ("login_form", "register_form", "logout", "new_blog_form", "search")
ROBOTS_DISALLOWED_PATTERNS = (
    "/blogs/*/edit$",
    "/blogs/*/delete$",
    "/users/*/edit$",
    "/users/*/delete$",
    "/admin/",
    "/account/",
    "/comments/",
)


@router.get("/feed.xml", name="site_feed")
def site_feed(request: Request, session: SessionDep):
    blogs = newest_blogs(session=session, page=1, page_size=FEED_SIZE).blogs
    return _atom_response(
        request,
        title="Latest blogs",
        page_path=url_path(request, "home"),
        feed_path=url_path(request, "site_feed"),
        blogs=blogs,
    )


@router.get("/users/{user_id}/feed.xml", name="author_feed")
def author_feed(request: Request, session: SessionDep, author: ListedAuthor):
    blogs = newest_blogs(session=session, page=1, page_size=FEED_SIZE, author_id=author.id).blogs
    return _atom_response(
        request,
        title=f"Blogs by {author.name}",
        page_path=url_path(request, "author_page", user_id=author.id),
        feed_path=url_path(request, "author_feed", user_id=author.id),
        blogs=blogs,
        author=author,
        # The author's own words about the feed; the site's description when they wrote none.
        subtitle=author.bio or None,
    )


@router.get("/tags/{tag}/feed.xml", name="tag_feed")
def tag_feed(request: Request, session: SessionDep, tag: TagInAddress):
    blogs = newest_blogs(session=session, page=1, page_size=FEED_SIZE, tag=tag).blogs
    if not blogs:
        raise HTTPException(404, "No published blog has this tag.")
    return _atom_response(
        request,
        title=f"Blogs tagged #{tag}",
        page_path=url_path(request, "tag_page", tag=tag),
        feed_path=url_path(request, "tag_feed", tag=tag),
        blogs=blogs,
    )


@router.get("/blogs/{blog_id}/comments.xml", name="comment_feed")
def comment_feed(request: Request, session: SessionDep, blog: ShownBlog):
    """A blog's newest approved comments."""
    if blog.status != BlogStatus.PUBLISHED:
        raise HTTPException(404, "There is no blog here. It may have been deleted.")
    comments = newest_comments(session=session, blog_id=blog.id, limit=COMMENT_FEED_SIZE)
    return _feed_response(
        request,
        title=f"Comments on {blog.title}",
        page_path=url_path(request, "blog_page", blog_id=blog.id, slug=blog.slug),
        feed_path=url_path(request, "comment_feed", blog_id=blog.id),
        entries=[_comment_entry(request, blog, comment) for comment in comments],
    )


@router.get("/sitemap.xml", name="sitemap")
def sitemap(request: Request, session: SessionDep):
    """The sitemap index: the parts that hold at least one address."""
    locs = [absolute_url_for(request, "sitemap_pages")]
    author_parts = sitemap_author_parts(session=session, part_size=SITEMAP_PART_SIZE)
    locs += [absolute_url_for(request, "sitemap_authors", number=number) for number in author_parts]
    blog_parts = sitemap_blog_parts(session=session, part_size=SITEMAP_PART_SIZE)
    locs += [absolute_url_for(request, "sitemap_blogs", number=number) for number in blog_parts]
    body = _render(request, "feeds/sitemap_index.xml", sitemaps=locs)
    return Response(body, media_type=SITEMAP_MEDIA_TYPE)


@router.get("/sitemaps/pages.xml", name="sitemap_pages")
def sitemap_pages(request: Request, session: SessionDep):
    """The site's own pages and its most used tags."""
    paths = [url_path(request, name) for name in ("home", "authors", "tags")]
    paths += [
        url_path(request, "tag_page", tag=name)
        for name, _ in popular_tags(session=session, limit=SITEMAP_MAX_TAGS)
    ]
    return _urlset(request, [{"loc": absolute_url(request, path)} for path in paths])


@router.get("/sitemaps/authors-{number}.xml", name="sitemap_authors")
def sitemap_authors_part(request: Request, session: SessionDep, number: SitemapPart):
    """The pages of the authors with a published blog, among one part's ids."""
    first_id, last_id = _part_ids(number)
    ids = sitemap_authors(session=session, first_id=first_id, last_id=last_id)
    urls = [{"loc": absolute_url_for(request, "author_page", user_id=id_)} for id_ in ids]
    return _urlset(request, urls)


@router.get("/sitemaps/blogs-{number}.xml", name="sitemap_blogs")
def sitemap_blogs_part(request: Request, session: SessionDep, number: SitemapPart):
    """The published blogs among one part's ids, with the date each last changed."""
    first_id, last_id = _part_ids(number)
    urls = []
    for blog in sitemap_blogs(session=session, first_id=first_id, last_id=last_id):
        loc = absolute_url_for(request, "blog_page", blog_id=blog.id, slug=slug_for(blog.title))
        changed = _last_changed(blog.updated_at, blog.published_at).astimezone(UTC)
        urls.append({"loc": loc, "lastmod": changed.date().isoformat()})
    return _urlset(request, urls)


def _part_ids(number: int) -> tuple[int, int]:
    return (number - 1) * SITEMAP_PART_SIZE + 1, number * SITEMAP_PART_SIZE


def _urlset(request: Request, urls: list[dict[str, str]]) -> Response:
    # A part with nothing in it is not in the index (and an empty urlset is not valid).
    if not urls:
        raise HTTPException(404, "There is no such sitemap.")
    body = _render(request, "feeds/sitemap.xml", urls=urls[:SITEMAP_MAX_URLS])
    return Response(body, media_type=SITEMAP_MEDIA_TYPE)


@router.get("/robots.txt", name="robots")
def robots(request: Request):
    disallowed = [url_path(request, name) for name in ROBOTS_DISALLOWED_ROUTES]
    disallowed += ROBOTS_DISALLOWED_PATTERNS
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in disallowed)]
    lines += ["", f"Sitemap: {absolute_url_for(request, 'sitemap')}"]
    return PlainTextResponse("\n".join(lines) + "\n")


def _atom_response(
    request: Request,
    *,
    title: str,
    page_path: str,
    feed_path: str,
    blogs: list[BlogSummary],
    author: UserPublic | None = None,
    subtitle: str | None = None,
) -> Response:
    entries = [_entry(request, blog) for blog in blogs]
    return _feed_response(
        request,
        title=title,
        page_path=page_path,
        feed_path=feed_path,
        entries=entries,
        author=author,
        subtitle=subtitle,
    )


def _feed_response(
    request: Request,
    *,
    title: str,
    page_path: str,
    feed_path: str,
    entries: list[dict[str, Any]],
    author: UserPublic | None = None,
    subtitle: str | None = None,
) -> Response:
    settings = request.app.state.settings
    site_name = settings.site_name
    updated = max((entry["updated_at"] for entry in entries), default=EMPTY_FEED_UPDATED)
    feed = {
        "id": absolute_url(request, page_path),
        "title": _xml_text(f"{title} · {site_name}"),
        "subtitle": _xml_text(subtitle or settings.site_description),
        "updated": _rfc3339(updated),
        "self_url": absolute_url(request, feed_path),
        "page_url": absolute_url(request, page_path),
        "author": _author(request, author) if author is not None else None,
        "generator": _xml_text(site_name),
        "entries": entries,
    }
    return Response(_render(request, "feeds/atom.xml", feed=feed), media_type=ATOM_MEDIA_TYPE)


def _entry(request: Request, blog: BlogSummary) -> dict[str, Any]:
    updated_at = _last_changed(blog.updated_at, blog.published_at)
    link = absolute_url_for(request, "blog_page", blog_id=blog.id, slug=blog.slug)
    return {
        "id": absolute_url_for(request, "blog_short_address", blog_id=blog.id),
        "title": _xml_text(blog.title),
        "link": link,
        "published": _rfc3339(blog.published_at or updated_at),
        "updated_at": updated_at,
        "updated": _rfc3339(updated_at),
        "author": _author(request, blog.author),
        "categories": [_xml_text(tag.name) for tag in blog.tags],
        "summary": _xml_text(excerpt(blog.body)),
        # A plain str, not Markup, so the template escapes the HTML into text as Atom wants.
        "content": _xml_text(str.__str__(render_markdown(blog.body))),
    }


def _comment_entry(request: Request, blog: BlogSummary, comment: CommentView) -> dict[str, Any]:
    updated_at = comment.edited_at or comment.created_at
    # Its lasting address, which finds the page of comments it is on.
    link = absolute_url_for(request, "comment_permalink", comment_id=comment.id)
    author = (
        {"name": _xml_text(comment.name), "uri": None}
        if comment.is_guest
        else _author(request, AuthorName(comment.author_id, comment.name))
    )
    return {
        "id": link,
        "title": _xml_text(f"Comment by {comment.name} on {blog.title}"),
        "link": link,
        "published": _rfc3339(comment.created_at),
        "updated_at": updated_at,
        "updated": _rfc3339(updated_at),
        "author": author,
        "categories": [],
        "summary": None,
        # As for blogs: a plain str, so the template escapes the HTML into text.
        "content": _xml_text(str.__str__(render_markdown(comment.body))),
    }


def _author(request: Request, user: User | UserPublic | AuthorName) -> dict[str, str]:
    uri = absolute_url_for(request, "author_page", user_id=user.id)
    return {"name": _xml_text(user.name), "uri": uri}


def _render(request: Request, template: str, **context: Any) -> str:
    # Straight from the environment, not through pages.render: a feed reader needs no layout,
    # and the layout's context would pop the visitor's flash messages.
    return request.app.state.templates.env.get_template(template).render(**context)


def _last_changed(updated_at: datetime, published_at: datetime | None) -> datetime:
    """A scheduled blog is new to readers when it comes out, even if written long before."""
    return max(updated_at, published_at) if published_at is not None else updated_at


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)
