"""The JSON API's operations: parse, call the same query or write function the pages call,
answer with the models' own `…Public` classes.

Reads show what an anonymous reader sees; with a token, its user's drafts and scheduled blogs
too (by id), as the pages show them to their author.
"""

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from blog import throttle
from blog.api.deps import (
    AuthoredBlog,
    DeletableBlog,
    DeletableComment,
    ExistingComment,
    ListedAuthor,
    OwnComment,
    ReadableBlog,
    RequiredUser,
    TokenUser,
)
from blog.api.problems import Problem
from blog.blogs import (
    BlogPage,
    BlogSummary,
    EditConflict,
    create_blog,
    delete_blog,
    is_visible,
    newest_blogs,
    update_blog,
)
from blog.comments import (
    MAX_COMMENT_PAGE,
    CommentView,
    comment_view,
    comments_page,
    create_comment,
    delete_comment,
    update_comment,
)
from blog.db import SessionDep
from blog.deps import client_address
from blog.models import (
    Blog,
    BlogCreate,
    BlogPublic,
    BlogsPublic,
    BlogStatus,
    BlogUpdate,
    CommentCreate,
    CommentPublic,
    CommentsPublic,
    CommentStatus,
    CommentUpdate,
    TagPublic,
    UserPublic,
    is_tag,
    normalize_tag,
)
from blog.paging import FIRST_PAGE, MAX_TOKEN_LENGTH, Position, decode_cursor
from blog.search import MAX_CANDIDATES, reader_query, search_blogs
from blog.throttle import Throttled, comment_counters
from blog.urls import url_path
from blog.users import users_by_id

API_PREFIX = "/api/v1"
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
TOO_MANY_COMMENTS = "You have posted many comments in a short time: try again later."
# A read answers the same without a token (as an anonymous reader sees it); `{}` says so.
OPTIONAL_TOKEN: dict[str, Any] = {"security": [{}]}

ERROR_DESCRIPTIONS = {
    400: "The request's host is not one this site answers to (ALLOWED_HOSTS).",
    401: "A token is needed and none was sent, or the one sent is not valid.",
    403: "The token's user may not do this.",
    404: "Nothing here, or nothing this reader may see.",
    409: "The blog was saved after the `version` sent in the body: nothing was changed.",
    412: "The blog was saved after the ETag sent in If-Match: nothing was changed.",
    413: "The request's body is larger than the API accepts.",
    422: "Fields that are not valid: one entry in `errors` for each.",
    429: "Too many requests: wait the Retry-After seconds.",
    503: "The database is unavailable just now: try again after Retry-After seconds.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`.", "schema": {"type": "string"}}},
    429: RETRY_AFTER,
    503: RETRY_AFTER,
}
ETAG_HEADER = {
    "ETag": {
        "description": "The blog's version, for If-Match.",
        "required": True,
        "schema": {"type": "string"},
    }
}
LOCATION_HEADER = {
    "Location": {
        "description": "The new resource's address.",
        "required": True,
        "schema": {"type": "string"},
    }
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries of these error statuses (blog.api moves them to
    application/problem+json in the schema)."""
    return {
        status: {
            "model": Problem,
            "description": ERROR_DESCRIPTIONS[status],
            **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {}),
        }
        for status in statuses
    }


# Every operation may answer these: the host check, the token (bad, or over its limit), the
# body limit, and the database.
COMMON_ERRORS = errors(400, 401, 413, 422, 429, 503)

router = APIRouter()

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items a page, 1 to 100.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_TOKEN_LENGTH,
        description="Where the page starts: take it from the previous page's `next`.",
    ),
]
CommentPageNumber = Annotated[
    int, Query(ge=1, le=MAX_COMMENT_PAGE, description="The page of comments, 100 a page.")
]
IfMatch = Annotated[
    str | None,
    Header(description="The blog's ETag as last read: if it has changed since, 412."),
]


# Blogs


@router.get("/blogs", response_model=BlogsPublic, openapi_extra=OPTIONAL_TOKEN)
def list_blogs(
    request: Request, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
):
    """Published blogs, newest first."""
    page = newest_blogs(session=session, position=_position(cursor), page_size=limit)
    return _blogs_page(session, page, _address(request, "list_blogs"), limit)


@router.post(
    "/blogs",
    status_code=201,
    response_model=BlogPublic,
    responses={201: {"headers": {**LOCATION_HEADER, **ETAG_HEADER}}},
)
def write_blog(
    request: Request, response: Response, session: SessionDep, user: RequiredUser, blog: BlogCreate
):
    """Write a blog (a draft, published, or scheduled with `publish_at`)."""
    created = create_blog(session=session, author=user, blog_create=blog)
    response.headers["Location"] = _address(request, "read_blog", blog_id=created.id)
    response.headers["ETag"] = etag_of(created)
    return BlogPublic.model_validate(created)


@router.get(
    "/blogs/{blog_id}",
    response_model=BlogPublic,
    responses={200: {"headers": ETAG_HEADER}, **errors(404)},
    openapi_extra=OPTIONAL_TOKEN,
)
def read_blog(response: Response, blog: ReadableBlog):
    """One blog; a draft or scheduled blog only for its author's token."""
    response.headers["ETag"] = etag_of(blog)
    return BlogPublic.model_validate(blog)


@router.patch(
    "/blogs/{blog_id}",
    response_model=BlogPublic,
    responses={200: {"headers": ETAG_HEADER}, **errors(403, 404, 409, 412)},
)
def edit_blog(
    response: Response,
    session: SessionDep,
    blog: AuthoredBlog,
    changes: BlogUpdate,
    if_match: IfMatch = None,
):
    """Change a blog (its author only): the fields sent, and no others."""
    if if_match is not None:
        _check_if_match(if_match, blog)
        # The update claims the next version only from this one, so a save racing this one
        # makes it a 412 too.
        changes = changes.model_copy(update={"version": blog.version})
    try:
        updated = update_blog(session=session, blog=blog, blog_update=changes)
    except EditConflict:
        if if_match is not None:
            raise HTTPException(412, ERROR_DESCRIPTIONS[412]) from None
        raise HTTPException(409, ERROR_DESCRIPTIONS[409]) from None
    response.headers["ETag"] = etag_of(updated)
    return BlogPublic.model_validate(updated)


@router.delete("/blogs/{blog_id}", status_code=204, responses=errors(403, 404, 412))
def remove_blog(session: SessionDep, blog: DeletableBlog, if_match: IfMatch = None):
    """Delete a blog (its author, or an admin) and its comments."""
    if if_match is not None:
        _check_if_match(if_match, blog)
    delete_blog(session=session, blog=blog)
    return Response(status_code=204)


# Authors and tags


@router.get("/me", response_model=UserPublic)
def me(user: RequiredUser):
    """The token's own user."""
    return UserPublic.model_validate(user)


@router.get(
    "/users/{user_id}",
    response_model=UserPublic,
    responses=errors(404),
    openapi_extra=OPTIONAL_TOKEN,
)
def read_user(author: ListedAuthor):
    """One author."""
    return UserPublic.model_validate(author)


@router.get(
    "/users/{user_id}/blogs",
    response_model=BlogsPublic,
    responses=errors(404),
    openapi_extra=OPTIONAL_TOKEN,
)
def list_user_blogs(
    request: Request,
    session: SessionDep,
    author: ListedAuthor,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
):
    """An author's published blogs, newest first."""
    page = newest_blogs(
        session=session, position=_position(cursor), page_size=limit, author_id=author.id
    )
    path = _address(request, "list_user_blogs", user_id=author.id)
    return _blogs_page(session, page, path, limit)


@router.get(
    "/tags/{tag}/blogs",
    response_model=BlogsPublic,
    responses=errors(404),
    openapi_extra=OPTIONAL_TOKEN,
)
def list_tag_blogs(
    request: Request,
    session: SessionDep,
    tag: Annotated[str, Path(max_length=200, description="A tag, in any case.")],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
):
    """The published blogs under one tag, newest first."""
    name = normalize_tag(tag)
    if not is_tag(name):
        raise HTTPException(404, "There is no such tag.")
    page = newest_blogs(session=session, position=_position(cursor), page_size=limit, tag=name)
    return _blogs_page(session, page, _address(request, "list_tag_blogs", tag=name), limit)


@router.get("/search", response_model=BlogsPublic, openapi_extra=OPTIONAL_TOKEN)
def search(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(description="Words to find; longer text is cut.")] = "",
    limit: Limit = DEFAULT_LIMIT,
    page: Annotated[int, Query(ge=1, le=MAX_CANDIDATES, description="The page of results.")] = 1,
):
    """Published blogs with every word, best match first (the newest 500 matches ranked)."""
    query = reader_query(q)
    results = search_blogs(session=session, query=query, page=page, page_size=limit)
    next_path = None
    if results.has_next:
        next_path = (
            _address(request, "search")
            + "?"
            + urlencode({"q": query, "limit": limit, "page": page + 1})
        )
    blogs = [result.blog for result in results.results]
    return BlogsPublic(data=_blogs_public(session, blogs), next=next_path)


# Comments


@router.get(
    "/blogs/{blog_id}/comments",
    response_model=CommentsPublic,
    responses=errors(404),
    openapi_extra=OPTIONAL_TOKEN,
)
def list_comments(
    request: Request,
    session: SessionDep,
    blog: ReadableBlog,
    viewer: TokenUser,
    page: CommentPageNumber = 1,
):
    """A blog's comments, oldest first, and the token's user's own still waiting."""
    if blog.status != BlogStatus.PUBLISHED:
        return CommentsPublic(data=[])
    viewer_id = viewer.id if viewer is not None else None
    comments = comments_page(session=session, blog_id=blog.id, number=page, viewer_id=viewer_id)
    next_path = None
    if comments.has_next:
        next_path = _address(request, "list_comments", blog_id=blog.id) + f"?page={page + 1}"
    return CommentsPublic(
        data=[_comment_public(view) for view in comments.comments], next=next_path
    )


@router.post(
    "/blogs/{blog_id}/comments",
    status_code=201,
    response_model=CommentPublic,
    responses={201: {"headers": LOCATION_HEADER}, **errors(403, 404)},
)
def write_comment(
    request: Request,
    response: Response,
    session: SessionDep,
    user: RequiredUser,
    blog: ReadableBlog,
    comment: CommentCreate,
):
    """Comment on a published blog. It may wait for approval (`status`), as on the pages."""
    if blog.status != BlogStatus.PUBLISHED:
        raise HTTPException(404, "There is no blog here. It may have been deleted.")
    if not blog.comments_open:
        raise HTTPException(403, "Comments are closed on this blog.")
    counters = comment_counters(
        request.app.state.settings, user_id=user.id, address=client_address(request)
    )
    try:
        throttle.check_all(session=session, counters=counters)
    except Throttled as throttled:
        raise HTTPException(
            429, TOO_MANY_COMMENTS, headers={"Retry-After": str(throttled.seconds)}
        ) from None
    created = create_comment(
        session=session,
        blog_id=blog.id,
        blog_author_id=blog.author_id,
        author=user,
        comment_create=comment,
    )
    throttle.record_all(session=session, counters=counters)
    response.headers["Location"] = _address(request, "read_comment", comment_id=created.id)
    return _comment_by_id(session, created.id)


@router.get(
    "/comments/{comment_id}",
    response_model=CommentPublic,
    responses=errors(404),
    openapi_extra=OPTIONAL_TOKEN,
)
def read_comment(session: SessionDep, viewer: TokenUser, found: ExistingComment):
    """One comment: a shown one, or the token's user's own waiting for approval."""
    comment = found.comment
    is_own = viewer is not None and comment.author_id == viewer.id
    if comment.status != CommentStatus.APPROVED and not is_own:
        raise HTTPException(404, "There is no such comment. It may have been deleted.")
    blog = session.get(Blog, comment.blog_id)
    if blog is None or not is_visible(blog, viewer):
        raise HTTPException(404, "There is no such comment. It may have been deleted.")
    return _comment_by_id(session, comment.id)


@router.patch("/comments/{comment_id}", response_model=CommentPublic, responses=errors(403, 404))
def edit_comment(session: SessionDep, found: OwnComment, changes: CommentUpdate):
    """Change one's own comment; one that gains links may wait for approval again."""
    update_comment(
        session=session,
        comment=found.comment,
        comment_update=changes,
        blog_author_id=found.blog_author_id,
    )
    return _comment_by_id(session, found.comment.id)


@router.delete("/comments/{comment_id}", status_code=204, responses=errors(403, 404))
def remove_comment(session: SessionDep, found: DeletableComment):
    """Delete a comment: its author, the blog's author, or an admin."""
    delete_comment(session=session, comment=found.comment)
    return Response(status_code=204)


# Helpers


def etag_of(blog: Blog) -> str:
    """A strong ETag from the blog's version, which every save moves on (so If-Match may
    compare it, RFC 9110 §13.1.1)."""
    return f'"{blog.version}"'


def _check_if_match(if_match: str, blog: Blog) -> None:
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" not in tags and etag_of(blog) not in tags:
        raise HTTPException(412, ERROR_DESCRIPTIONS[412])


def _position(cursor: str | None) -> Position:
    """The page a `cursor` (from a `next` link) starts at; 422 for one no link carries."""
    if cursor is None:
        return FIRST_PAGE
    decoded = decode_cursor(cursor, (datetime, int))
    if decoded is None:
        message = "Not a cursor from a `next` link."
        error = {"type": "cursor", "loc": ("query", "cursor"), "msg": message, "input": cursor}
        raise RequestValidationError([error])
    number, key = decoded
    return Position(number=number, before=key)


def _address(request: Request, name: str, /, **params: Any) -> str:
    """An API address by its operation's name: where the API is mounted, then the route's path
    (blog.urls, which escapes each parameter: a tag `c#` stays in its path)."""
    return API_PREFIX + url_path(request, name, **params)


def _blogs_page(session: SessionDep, page: BlogPage, path: str, limit: int) -> BlogsPublic:
    next_path = None
    if page.next_query is not None:
        # A newest-first list goes on with the blogs before its last one (blog.paging).
        cursor = parse_qs(page.next_query)["before"][0]
        next_path = f"{path}?" + urlencode({"limit": limit, "cursor": cursor})
    return BlogsPublic(data=_blogs_public(session, page.blogs), next=next_path)


def _blogs_public(session: SessionDep, summaries: list[BlogSummary]) -> list[BlogPublic]:
    """BlogPublics from the summaries lists read, their authors read in one more query."""
    authors = users_by_id(session=session, ids={summary.author_id for summary in summaries})
    return [
        BlogPublic(
            id=summary.id,
            title=summary.title,
            body=summary.body,
            comments_open=summary.comments_open,
            author_id=summary.author_id,
            created_at=summary.created_at,
            updated_at=summary.updated_at,
            published_at=summary.published_at,
            suspended_published_at=summary.suspended_published_at,
            version=summary.version,
            comment_count=summary.comment_count,
            author=UserPublic.model_validate(authors[summary.author_id]),
            tags=[TagPublic(name=tag.name) for tag in summary.tags],
        )
        for summary in summaries
    ]


def _comment_public(view: CommentView) -> CommentPublic:
    return CommentPublic.model_validate(view, from_attributes=True)


def _comment_by_id(session: SessionDep, comment_id: int) -> CommentPublic:
    view = comment_view(session=session, comment_id=comment_id)
    if view is None:  # deleted meanwhile
        raise HTTPException(404, "There is no such comment. It may have been deleted.")
    return _comment_public(view)
