"""Authors' pages and their own accounts."""

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from blog.blogs import held_blogs, newest_blogs, unpublished_blogs
from blog.db import SessionDep
from blog.deps import FormDep, ListedAuthor, OptionalUser, OwnAccount, require_csrf
from blog.forms import Form, validate_form
from blog.models import AccountDeletion, UserUpdate
from blog.pages import render
from blog.paging import FIRST_PAGE, NO_SUCH_PAGE, AuthorListPosition, BlogListPosition
from blog.routes.account import confirm_password
from blog.security import flash, start_session
from blog.urls import url_path
from blog.users import EmailTaken, authors_page, delete_user, update_user

router = APIRouter()

# How many of a suspended author's held-back blogs their page lists for admins.
HELD_BLOGS_SHOWN = 100


@router.get("/users", name="authors")
async def index(request: Request, session: SessionDep, position: AuthorListPosition):
    page = authors_page(
        session=session, position=position, page_size=request.app.state.settings.page_size
    )
    if position != FIRST_PAGE and not page.authors:
        raise HTTPException(404, NO_SUCH_PAGE)
    return render(request, "users/index.html", {"page": page})


@router.get("/users/{user_id}", name="author_page")
async def show(
    request: Request,
    session: SessionDep,
    author: ListedAuthor,
    viewer: OptionalUser,
    position: BlogListPosition,
):
    blog_page = newest_blogs(
        session=session,
        position=position,
        page_size=request.app.state.settings.page_size,
        author_id=author.id,
    )
    if position != FIRST_PAGE and not blog_page.blogs:
        raise HTTPException(404, NO_SUCH_PAGE)
    # Authors see their own drafts and scheduled blogs here; nobody else ever does.
    is_own_page = viewer is not None and viewer.id == author.id
    unpublished = unpublished_blogs(session=session, author_id=author.id) if is_own_page else []
    # Only an admin reaches a suspended author's page (see ListedAuthor).
    held = (
        held_blogs(session=session, author_id=author.id, limit=HELD_BLOGS_SHOWN)
        if author.is_suspended
        else []
    )
    context = {
        "author": author,
        "suspended_at": author.suspended_at,
        "page": blog_page,
        "unpublished": unpublished,
        "held": held,
    }
    return render(request, "users/show.html", context)


@router.get("/users/{user_id}/edit", name="edit_profile_form")
def edit_form(request: Request, user: OwnAccount):
    form = Form(values={"name": user.name, "email": user.email, "bio": user.bio})
    return render(request, "users/form.html", {"form": form})


@router.post("/users/{user_id}/edit", name="edit_profile", dependencies=[Depends(require_csrf)])
def edit(request: Request, session: SessionDep, user: OwnAccount, form_data: FormDep):
    form = validate_form(UserUpdate, form_data)
    if form.data is not None:
        try:
            update_user(session=session, user=user, user_update=form.data)
        except EmailTaken:
            form.add_error("email", EmailTaken.message)
        else:
            flash(request, "Your profile is saved.")
            return RedirectResponse(
                url_path(request, "author_page", user_id=user.id), status_code=303
            )
    return render(request, "users/form.html", {"form": form}, status_code=422)


@router.get("/users/{user_id}/delete", name="delete_account_form")
def delete_confirmation(request: Request, user: OwnAccount):
    return render(request, "users/delete.html", {"form": Form()})


@router.post("/users/{user_id}/delete", name="delete_account", dependencies=[Depends(require_csrf)])
def delete(request: Request, session: SessionDep, user: OwnAccount, form_data: FormDep):
    form = validate_form(AccountDeletion, form_data)
    refusal = confirm_password(request, session, user, form, form_data, "password")
    if refusal is not None:
        response = render(request, "users/delete.html", {"form": form}, refusal.status_code)
        response.headers.update(refusal.headers)
        return response
    delete_user(session=session, user=user)
    start_session(request, None)
    flash(request, "Your account and your blogs are deleted.")
    return RedirectResponse(url_path(request, "home"), status_code=303)
