"""The API's dependencies: who a token says is asking, and the blogs, authors and comments an
address names as that reader may see them.

Only `Authorization: Bearer TOKEN` says who is asking: the session cookie is never read here,
so a page on another site cannot make a browser write through the API, and no CSRF token is
needed.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from blog.blogs import visible_blog
from blog.comments import CommentOnBlog
from blog.db import SessionDep
from blog.deps import (
    NO_SUCH_BLOG,
    BlogId,
    ExistingComment,
    UserId,
    blog_deletable_by,
    blog_editable_by,
    comment_by,
    comment_deletable_by,
)
from blog.models import Blog, User
from blog.tokens import user_for_token
from blog.users import is_listed

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A personal API token, made on /account/tokens: `Authorization: Bearer TOKEN`.",
)
# Messages, not tokens (S105).
NEEDS_TOKEN = "This needs an API token: send `Authorization: Bearer TOKEN` (see /account/tokens)."  # noqa: S105
BAD_TOKEN = "The token is not valid: it may have been revoked, or its account suspended."  # noqa: S105


def token_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User | None:
    """The user the request's token belongs to; None when it sends none. A token that names no
    one (or any other kind of Authorization) is a 401, never read as anonymous; a token past
    its rate limit is a 429 (blog.tokens)."""
    if "authorization" not in request.headers:
        return None
    user = None
    if credentials is not None:
        requests_per_minute = request.app.state.settings.api_requests_per_minute
        user = user_for_token(
            session=session,
            token=credentials.credentials,
            requests_per_minute=requests_per_minute,
        )
    if user is None:
        raise HTTPException(
            401, BAD_TOKEN, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    return user


TokenUser = Annotated[User | None, Depends(token_user)]


async def required_user(user: TokenUser) -> User:
    if user is None:
        raise HTTPException(401, NEEDS_TOKEN, headers={"WWW-Authenticate": "Bearer"})
    return user


RequiredUser = Annotated[User, Depends(required_user)]


def readable_blog(blog_id: BlogId, session: SessionDep, viewer: TokenUser) -> Blog:
    """The blog, as this reader may see it (a draft only by its author), or a 404."""
    blog = visible_blog(session=session, blog_id=blog_id, viewer=viewer)
    if blog is None:
        raise HTTPException(404, NO_SUCH_BLOG)
    return blog


ReadableBlog = Annotated[Blog, Depends(readable_blog)]


# The token comes first, so a request without one is a 401 before anything about the blog is
# revealed; then 404, then 403 (as the pages do).
async def authored_blog(user: RequiredUser, blog: ReadableBlog) -> Blog:
    """The blog, if the token's user wrote it (else 403)."""
    return blog_editable_by(user, blog)


async def deletable_blog(user: RequiredUser, blog: ReadableBlog) -> Blog:
    """The blog, if the token's user wrote it or is an admin (else 403)."""
    return blog_deletable_by(user, blog)


AuthoredBlog = Annotated[Blog, Depends(authored_blog)]
DeletableBlog = Annotated[Blog, Depends(deletable_blog)]


def listed_author(user_id: UserId, session: SessionDep, viewer: TokenUser) -> User:
    """The author, or a 404 (also while suspended, admins aside)."""
    author = session.get(User, user_id)
    if author is None or not is_listed(author, viewer):
        raise HTTPException(404, "There is no such author.")
    return author


ListedAuthor = Annotated[User, Depends(listed_author)]


async def own_comment(user: RequiredUser, found: ExistingComment) -> CommentOnBlog:
    """The comment, if the token's user wrote it (else 403)."""
    return comment_by(user, found)


async def deletable_comment(user: RequiredUser, found: ExistingComment) -> CommentOnBlog:
    """The comment, if the token's user wrote it, or wrote the blog, or is an admin."""
    return comment_deletable_by(user, found)


OwnComment = Annotated[CommentOnBlog, Depends(own_comment)]
DeletableComment = Annotated[CommentOnBlog, Depends(deletable_comment)]
