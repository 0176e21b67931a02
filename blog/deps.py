"""Dependencies that routes declare instead of repeating checks: who is asking, may they.

They are all `async`, reads included, and so are the routes that only read (see blog.db's
"Reads on the event loop"): a plain function would cost every request a hop to a thread
and back, and under load the threads' contention for the interpreter costs more than the
reads themselves. Writes, password hashing and anything else that may wait stay in plain
routes, which FastAPI runs in its thread pool.
"""

from dataclasses import dataclass
from typing import Annotated, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import BackgroundTasks, Depends, HTTPException, Path, Query, Request
from starlette.datastructures import FormData

from blog.blogs import BlogSummary, blog_summary, is_visible, visible_blog
from blog.comments import (
    MAX_COMMENT_PAGE,
    NO_COMMENTS,
    CommentOnBlog,
    CommentPage,
    comment_on_blog,
    comments_page,
    may_moderate,
)
from blog.db import SessionDep
from blog.forms import read_form
from blog.models import (
    AuthorProfile,
    Blog,
    BlogStatus,
    User,
    UserPublic,
    is_tag,
    normalize_tag,
)
from blog.security import csrf_token_is_valid, login_token
from blog.users import author_profile, is_listed, logged_in_user, note_seen

# The largest id an INTEGER primary key holds on every database (32 bits on PostgreSQL);
# anything above is simply not there, and asking the database would be an error, not a miss.
MAX_ID = 2**31 - 1

BlogId = Annotated[int, Path(ge=1, le=MAX_ID)]
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
CommentId = Annotated[int, Path(ge=1, le=MAX_ID)]
# `?comments=N`: which page of a blog's comments its page shows.
CommentPageNumber = Annotated[int, Query(alias="comments", ge=1, le=MAX_COMMENT_PAGE)]
FormDep = Annotated[FormData, Depends(read_form)]
NO_SUCH_BLOG = "There is no blog here. It may have been deleted."
# Far past any real page; keeps the offset within what every database accepts.
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]


class MovedPermanently(Exception):
    """Raised where an address has one right spelling; answered with a 301 to it."""

    def __init__(self, location: str) -> None:
        self.location = location


class LoginRequired(Exception):
    """Raised where a visitor must log in; answered with a 303 to the login page."""

    def __init__(self, next_path: str | None) -> None:
        self.next_path = next_path


# Load balancers and orchestrators probe these by whatever address reaches the worker.
HOST_CHECK_EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
BAD_HOST_MESSAGE = "This site does not answer to that address."


def host_is_allowed(request: Request) -> bool:
    """Whether the request's Host is one this site answers to (ALLOWED_HOSTS, or BASE_URL's)."""
    allowed: frozenset[str] | None = request.app.state.allowed_hosts
    if allowed is None or request.url.path in HOST_CHECK_EXEMPT_PATHS:
        return True
    host = _host_name(request.headers.get("host", ""))
    # ".example.com" allows example.com and every name under it.
    return host in allowed or any(
        name.startswith(".") and (host.endswith(name) or host == name[1:]) for name in allowed
    )


async def allowed_host(request: Request) -> None:
    """A 400 page for any other Host, before a page (or a cached copy) is built with it."""
    if not host_is_allowed(request):
        raise HTTPException(400, BAD_HOST_MESSAGE)


def _host_name(host_header: str) -> str:
    """The name in a Host header, without its port: "Blog.Example:8000" → "blog.example"."""
    host = host_header.strip().lower()
    if host.startswith("["):  # an IPv6 address, "[::1]:8000"
        return host.partition("]")[0] + "]"
    return host.partition(":")[0].rstrip(".")


def client_address(request: Request) -> str:
    """The address uvicorn reports (behind a proxy, from its forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


def is_cross_site(request: Request) -> bool:
    """Whether the browser says this request came from another site.

    Requests without Origin (older clients, scripts, tests) are judged by the CSRF token alone.
    """
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    own = {request.headers.get("host", "").lower()}
    if base_url := request.app.state.settings.base_url:
        own.add(urlsplit(base_url).netloc.lower())
    # "null" (a sandboxed frame, a privacy-preserving redirect) names no site, so not ours.
    return urlsplit(origin).netloc.lower() not in own


async def require_csrf(request: Request, form: FormDep) -> None:
    if is_cross_site(request):
        raise HTTPException(403, "This form was sent from another site, so nothing was changed.")
    if not csrf_token_is_valid(request, form.get("csrf_token")):
        raise HTTPException(
            403,
            "This form has expired or did not come from this site. "
            "Go back, reload the page and try again.",
        )


async def optional_user(
    request: Request, session: SessionDep, after_response: BackgroundTasks
) -> UserPublic | None:
    """Who is logged in, as anyone may see them, or None; kept on the request for the layout.

    The session's last_seen_at, when due, is written after the response, in the thread pool:
    a write may wait for the database's lock, which the event loop must not.
    """
    logged_in = logged_in_user(session=session, token=login_token(request))
    if request.method not in ("GET", "HEAD"):
        # Back to the pool at once: a form's body is read next, and a connection held while a
        # slow client sends it is one a read on the event loop could find missing (blog.db).
        session.rollback()
    viewer = logged_in.viewer if logged_in is not None else None
    # Kept apart from the request's session, so an error page drawn after that session failed
    # (a write the database refused) still shows who is logged in.
    request.state.user = viewer
    if logged_in is not None and logged_in.seen_is_due:
        after_response.add_task(note_seen, request.app.state.engine, logged_in.login_session_id)
    return viewer


OptionalUser = Annotated[UserPublic | None, Depends(optional_user)]


async def current_user(request: Request, session: SessionDep, viewer: OptionalUser) -> User:
    """The logged-in user's account itself, for routes that act on it."""
    user = session.get(User, viewer.id) if viewer is not None else None
    if user is None:
        # After logging in, come back to the page asked for; a POST cannot be replayed.
        next_path = request.url.path if request.method == "GET" else None
        raise LoginRequired(next_path)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    """The logged-in user, if an admin (else 403; a visitor is sent to log in first)."""
    if not user.is_admin:
        raise HTTPException(403, "Only admins can do that.")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


AnyBlog = TypeVar("AnyBlog", Blog, BlogSummary)


async def existing_blog(blog_id: BlogId, session: SessionDep, user: OptionalUser) -> Blog:
    """The blog here, or a 404 (a draft or scheduled blog is there only for its author)."""
    blog = visible_blog(session=session, blog_id=blog_id, viewer=user)
    if blog is None:
        raise HTTPException(404, NO_SUCH_BLOG)
    return blog


async def shown_blog(blog_id: BlogId, session: SessionDep, user: OptionalUser) -> BlogSummary:
    """The blog here as its page shows it (author and tags read with it, in one query), or a
    404 like `existing_blog`'s."""
    return _visible_or_missing(blog_summary(session=session, blog_id=blog_id), user)


@dataclass(frozen=True)
class BlogWithComments:
    blog: BlogSummary
    comments: CommentPage


async def shown_blog_with_comments(
    blog_id: BlogId, session: SessionDep, user: OptionalUser, comments: CommentPageNumber = 1
) -> BlogWithComments:
    """The blog here and a page of its comments (two queries), or a 404 like `shown_blog`'s;
    also a 404 for a page of comments past the last. Drafts and scheduled blogs have no comments."""
    blog = await shown_blog(blog_id, session, user)
    if blog.status != BlogStatus.PUBLISHED:
        page = NO_COMMENTS
    else:
        viewer_id = user.id if user is not None else None
        page = comments_page(session=session, blog_id=blog.id, number=comments, viewer_id=viewer_id)
    if comments > 1 and not page.comments:
        raise HTTPException(404, "There is no such page of comments.")
    return BlogWithComments(blog, page)


def _visible_or_missing(blog: AnyBlog | None, user: UserPublic | None) -> AnyBlog:
    if blog is None or not is_visible(blog, user):
        raise HTTPException(404, NO_SUCH_BLOG)
    return blog


async def existing_user(user_id: UserId, session: SessionDep) -> User:
    """The user at this address, or a 404."""
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, "There is no such author.")
    return user


ExistingBlog = Annotated[Blog, Depends(existing_blog)]
ShownBlog = Annotated[BlogSummary, Depends(shown_blog)]
ShownBlogWithComments = Annotated[BlogWithComments, Depends(shown_blog_with_comments)]
ExistingUser = Annotated[User, Depends(existing_user)]


async def listed_author(
    user_id: UserId, session: SessionDep, viewer: OptionalUser
) -> AuthorProfile:
    """The author at this address, or a 404 while they are suspended (admins aside)."""
    author = author_profile(session=session, user_id=user_id)
    if author is None or not is_listed(author, viewer):
        raise HTTPException(404, "There is no such author.")
    return author


ListedAuthor = Annotated[AuthorProfile, Depends(listed_author)]


def blog_editable_by(user: User, blog: Blog) -> Blog:
    """The blog, if this user wrote it (else 403); the pages' and the API's check."""
    if blog.author_id != user.id:
        raise HTTPException(403, "Only the author of this blog can change it.")
    return blog


def blog_deletable_by(user: User, blog: Blog) -> Blog:
    """The blog, if this user wrote it or is an admin (else 403): admins may delete any blog,
    but only its author may edit it."""
    if blog.author_id != user.id and not user.is_admin:
        raise HTTPException(403, "Only the author of this blog can delete it.")
    return blog


# The logged-in user comes first, so a visitor who is not is sent to log in before anything
# about the blog or account is revealed; then 404, then 403.
async def owned_blog(user: CurrentUser, blog: ExistingBlog) -> Blog:
    """The blog, if the logged-in user wrote it (else 403)."""
    return blog_editable_by(user, blog)


async def deletable_blog(user: CurrentUser, blog: ExistingBlog) -> Blog:
    """The blog, if the logged-in user may delete it (see `blog_deletable_by`)."""
    return blog_deletable_by(user, blog)


async def own_account(user: CurrentUser, account: ExistingUser) -> User:
    """The account, if it is the logged-in user's own (else 403)."""
    if account.id != user.id:
        raise HTTPException(403, "You can only change your own account.")
    return user


OwnedBlog = Annotated[Blog, Depends(owned_blog)]
DeletableBlog = Annotated[Blog, Depends(deletable_blog)]
OwnAccount = Annotated[User, Depends(own_account)]


# Comments


async def commenter(request: Request, session: SessionDep, viewer: OptionalUser) -> User | None:
    """Who is commenting: the logged-in user, or None for a guest where guests may comment
    (GUEST_COMMENTS); otherwise a visitor is sent to log in."""
    if viewer is None:
        if not request.app.state.settings.guest_comments:
            raise LoginRequired(None)
        return None
    return await current_user(request, session, viewer)


Commenter = Annotated[User | None, Depends(commenter)]


async def commentable_blog(user: Commenter, blog: ShownBlog) -> BlogSummary:
    """The blog, if it takes comments: published (else 404, even to its author) and with
    comments open (else 403)."""
    if blog.status != BlogStatus.PUBLISHED:
        raise HTTPException(404, "There is no blog here. It may have been deleted.")
    if not blog.comments_open:
        raise HTTPException(403, "Comments are closed on this blog.")
    return blog


CommentableBlog = Annotated[BlogSummary, Depends(commentable_blog)]


async def existing_comment(comment_id: CommentId, session: SessionDep) -> CommentOnBlog:
    found = comment_on_blog(session=session, comment_id=comment_id)
    if found is None:
        raise HTTPException(404, "There is no such comment. It may have been deleted.")
    return found


ExistingComment = Annotated[CommentOnBlog, Depends(existing_comment)]


def comment_by(user: User, found: CommentOnBlog) -> CommentOnBlog:
    """The comment, if this user wrote it (else 403); the pages' and the API's check."""
    if found.comment.author_id != user.id:
        raise HTTPException(403, "Only the author of this comment can change it.")
    return found


def comment_deletable_by(user: User, found: CommentOnBlog) -> CommentOnBlog:
    """The comment, if this user wrote it, or wrote the blog, or is an admin (else 403)."""
    if found.comment.author_id != user.id and not may_moderate(user, found.blog_author_id):
        raise HTTPException(
            403, "Only the comment's author or the blog's author can delete this comment."
        )
    return found


# As for blogs: a visitor who is not logged in is sent to log in first, then 404, then 403.
async def own_comment(user: CurrentUser, found: ExistingComment) -> CommentOnBlog:
    """The comment, if the logged-in user wrote it (else 403)."""
    return comment_by(user, found)


async def moderated_comment(user: CurrentUser, found: ExistingComment) -> CommentOnBlog:
    """The comment, if the logged-in user may approve it: the blog's author or an admin
    (else 403)."""
    if not may_moderate(user, found.blog_author_id):
        raise HTTPException(403, "Only the author of the blog can approve its comments.")
    return found


async def deletable_comment(user: CurrentUser, found: ExistingComment) -> CommentOnBlog:
    """The comment, if the logged-in user may delete it (see `comment_deletable_by`)."""
    return comment_deletable_by(user, found)


OwnComment = Annotated[CommentOnBlog, Depends(own_comment)]
ModeratedComment = Annotated[CommentOnBlog, Depends(moderated_comment)]
DeletableComment = Annotated[CommentOnBlog, Depends(deletable_comment)]


async def tag_in_address(request: Request, tag: Annotated[str, Path()]) -> str:
    """The tag the address names, in its one form: 404 if it cannot be a tag, else a 301 to the
    address with the tag written that way (/tags/Python and /tags/Python/ → /tags/python)."""
    normalized = normalize_tag(tag)
    if not is_tag(normalized):
        raise HTTPException(404, "No published blog has this tag.")
    # The decoded path, where the tag stands as it came: `request.url.path` keeps its
    # percent-escapes, so `C#` would not be found there and the 301 would point at itself.
    rest = request.scope["path"].removeprefix(f"/tags/{tag}")
    # A trailing slash goes in the same 301, not in one of its own before it.
    if normalized != tag or rest == "/":
        path = f"/tags/{quote(normalized, safe='')}{rest.removesuffix('/')}"
        query = f"?{request.url.query}" if request.url.query else ""
        raise MovedPermanently(path + query)
    return normalized


TagInAddress = Annotated[str, Depends(tag_in_address)]
