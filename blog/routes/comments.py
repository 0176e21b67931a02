"""Readers' comments: posting, editing and deleting them, and approving those that wait."""

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from blog import throttle
from blog.blogs import BlogSummary
from blog.comments import (
    CommentOnBlog,
    approve_comment,
    comment_address,
    comments_page,
    create_comment,
    delete_comment,
    page_number_of,
    pending_comments,
    update_comment,
)
from blog.db import SessionDep
from blog.deps import (
    CommentableBlog,
    Commenter,
    CurrentUser,
    DeletableComment,
    ExistingComment,
    FormDep,
    ModeratedComment,
    OptionalUser,
    OwnComment,
    PageNumber,
    client_address,
    require_csrf,
)
from blog.forms import Form, validate_form
from blog.models import (
    CommentCreate,
    CommentStatus,
    CommentUpdate,
    GuestCommentCreate,
    User,
    UserPublic,
)
from blog.pages import render
from blog.routes.auth import safe_next_path
from blog.security import flash
from blog.throttle import Throttled, comment_counters
from blog.urls import url_path

router = APIRouter()

# The honeypot: a field people never see (see templates/comments/_form.html), which bots that
# fill in every field fill in.
HONEYPOT = "website"
POSTED = "Your comment is posted."
WAITING_FOR_GUEST = (
    "Thanks! Your comment is waiting for the author's approval; nobody else sees it until then."
)
WAITING_FOR_ACCOUNT = (
    "Your comment is waiting for the author's approval. Until then only you can see it."
)
EDITED = "Your comment is saved."
EDITED_AND_WAITING = "Your comment is saved. It waits for the author's approval again."
TOO_MANY_COMMENTS = "You have posted many comments in a short time."


@router.post(
    "/blogs/{blog_id}/comments", name="create_comment", dependencies=[Depends(require_csrf)]
)
def create(
    request: Request,
    session: SessionDep,
    user: Commenter,
    blog: CommentableBlog,
    form_data: FormDep,
):
    form = validate_form(CommentCreate if user is not None else GuestCommentCreate, form_data)
    counters = comment_counters(
        request.app.state.settings,
        user_id=user.id if user is not None else None,
        address=client_address(request),
    )
    try:
        throttle.check_all(session=session, counters=counters)
    except Throttled as throttled:
        wait = "a minute" if throttled.minutes == 1 else f"{throttled.minutes} minutes"
        form.add_error("", f"{TOO_MANY_COMMENTS} Try again in {wait}; your text is kept below.")
        response = _blog_page(request, session, blog, user, form, status_code=429)
        response.headers["Retry-After"] = str(throttled.seconds)
        return response
    if form.data is None:
        return _blog_page(request, session, blog, user, form, status_code=422)
    comment = create_comment(
        session=session,
        blog_id=blog.id,
        blog_author_id=blog.author_id,
        author=user,
        comment_create=form.data,
        honeypot_filled=bool(form_data.get(HONEYPOT)),
    )
    throttle.record_all(session=session, counters=counters)
    # A comment caught by the honeypot gets the answer a held guest's comment gets.
    if comment.status == CommentStatus.APPROVED:
        flash(request, POSTED)
    elif comment.status == CommentStatus.PENDING and user is not None:
        flash(request, WAITING_FOR_ACCOUNT)
    else:
        flash(request, WAITING_FOR_GUEST)
    blog_address = url_path(request, "blog_page", blog_id=blog.id, slug=blog.slug)
    return _redirect_to(session, comment, blog_address, user)


@router.get("/comments/pending", name="pending_comments")
def pending(request: Request, session: SessionDep, user: CurrentUser, page: PageNumber = 1):
    pending_page = pending_comments(session=session, moderator=user, number=page)
    if page > 1 and not pending_page.comments:
        raise HTTPException(404, "There is no such page.")
    return render(request, "comments/pending.html", {"page": pending_page})


@router.get("/comments/{comment_id}", name="comment_permalink")
def permalink(request: Request, session: SessionDep, user: OptionalUser, found: ExistingComment):
    """A comment's lasting address (its feed entry's link): the page of its blog it is on."""
    comment = found.comment
    is_own = user is not None and comment.author_id == user.id
    if comment.status != CommentStatus.APPROVED and not is_own:
        raise HTTPException(404, "There is no such comment. It may have been deleted.")
    return _redirect_to(session, comment, _blog_address(request, found), user)


@router.get("/comments/{comment_id}/edit", name="edit_comment_form")
def edit_form(request: Request, found: OwnComment):
    form = Form(values={"body": found.comment.body})
    return render(request, "comments/edit.html", {"form": form, "found": found})


@router.post(
    "/comments/{comment_id}/edit", name="edit_comment", dependencies=[Depends(require_csrf)]
)
def edit(
    request: Request, session: SessionDep, user: CurrentUser, found: OwnComment, form_data: FormDep
):
    form = validate_form(CommentUpdate, form_data)
    if form.data is None:
        context = {"form": form, "found": found}
        return render(request, "comments/edit.html", context, status_code=422)
    was_approved = found.comment.status == CommentStatus.APPROVED
    comment = update_comment(
        session=session,
        comment=found.comment,
        comment_update=form.data,
        blog_author_id=found.blog_author_id,
    )
    held_again = was_approved and comment.status != CommentStatus.APPROVED
    flash(request, EDITED_AND_WAITING if held_again else EDITED)
    return _redirect_to(session, comment, _blog_address(request, found), user)


@router.post(
    "/comments/{comment_id}/delete", name="delete_comment", dependencies=[Depends(require_csrf)]
)
def delete(request: Request, session: SessionDep, found: DeletableComment, form_data: FormDep):
    back = _back_to(request, form_data, default=f"{_blog_address(request, found)}#comments")
    delete_comment(session=session, comment=found.comment)
    flash(request, "The comment is deleted.")
    return RedirectResponse(back, status_code=303)


@router.post(
    "/comments/{comment_id}/approve", name="approve_comment", dependencies=[Depends(require_csrf)]
)
def approve(request: Request, session: SessionDep, found: ModeratedComment, form_data: FormDep):
    back = _back_to(request, form_data, default=url_path(request, "pending_comments"))
    approve_comment(session=session, comment=found.comment)
    flash(request, "The comment is approved: everyone sees it now.")
    return RedirectResponse(back, status_code=303)


def _blog_page(
    request: Request,
    session: SessionDep,
    blog: BlogSummary,
    user: User | None,
    form: Form,
    *,
    status_code: int,
):
    """The blog's page again, with the comment form as it was sent and its messages."""
    viewer_id = user.id if user is not None else None
    comments = comments_page(session=session, blog_id=blog.id, number=1, viewer_id=viewer_id)
    context = {"blog": blog, "comments": comments, "comment_form": form}
    return render(request, "blogs/show.html", context, status_code=status_code)


def _blog_address(request: Request, found: CommentOnBlog) -> str:
    """The address of the blog the comment is on."""
    return url_path(request, "blog_page", blog_id=found.comment.blog_id, slug=found.blog_slug)


def _redirect_to(session: SessionDep, comment, blog_address: str, user: User | UserPublic | None):
    viewer_id = user.id if user is not None else None
    number = page_number_of(session=session, comment=comment, viewer_id=viewer_id)
    return RedirectResponse(comment_address(blog_address, comment.id, number), status_code=303)


def _back_to(request: Request, form_data: FormDep, *, default: str) -> str:
    """The page a button says to come back to (a path on this site), else `default`."""
    next_path = form_data.get("next")
    return (
        safe_next_path(request, next_path) if isinstance(next_path, str) and next_path else default
    )
