"""Admins: every account, with the buttons that suspend, reinstate or delete it."""

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from blog.db import SessionDep
from blog.deps import AdminUser, ExistingUser, FormDep, require_csrf
from blog.models import User
from blog.pages import render
from blog.paging import FIRST_PAGE, NO_SUCH_PAGE, AuthorListPosition
from blog.security import flash
from blog.urls import url_path
from blog.users import accounts_page, delete_user, reinstate_user, suspend_user

router = APIRouter()

NOT_YOUR_OWN = (
    "That is your own account: an admin cannot suspend or delete it from here. "
    "Your profile has the button to delete it."
)


@router.get("/admin/users", name="admin_accounts")
def accounts(request: Request, session: SessionDep, admin: AdminUser, position: AuthorListPosition):
    page = accounts_page(
        session=session, position=position, page_size=request.app.state.settings.page_size
    )
    if position != FIRST_PAGE and not page.accounts:
        raise HTTPException(404, NO_SUCH_PAGE)
    # The buttons bring the admin back to this same page of the list.
    back = url_path(request, "admin_accounts") + (
        f"?{request.url.query}" if request.url.query else ""
    )
    return render(request, "admin/users.html", {"page": page, "back": back})


# The admin comes first, so a visitor is sent to log in and anyone else gets 403 before an
# id is looked up.
@router.post(
    "/admin/users/{user_id}/suspend", name="suspend_account", dependencies=[Depends(require_csrf)]
)
def suspend(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    account: ExistingUser,
    form_data: FormDep,
):
    _not_own(admin, account)
    suspend_user(session=session, user=account)
    flash(request, f"{account.name} is suspended: they cannot log in, and their blogs are hidden.")
    return _back(request, form_data.get("next"))


@router.post(
    "/admin/users/{user_id}/reinstate",
    name="reinstate_account",
    dependencies=[Depends(require_csrf)],
)
def reinstate(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    account: ExistingUser,
    form_data: FormDep,
):
    reinstate_user(session=session, user=account)
    flash(request, f"{account.name} is reinstated: they can log in, and their blogs are back.")
    return _back(request, form_data.get("next"))


@router.post(
    "/admin/users/{user_id}/delete",
    name="admin_delete_account",
    dependencies=[Depends(require_csrf)],
)
def delete(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    account: ExistingUser,
    form_data: FormDep,
):
    _not_own(admin, account)
    name = account.name
    delete_user(session=session, user=account)
    flash(request, f"The account of {name} and all its blogs are deleted.")
    return _back(request, form_data.get("next"))


def _not_own(admin: User, account: User) -> None:
    if account.id == admin.id:
        raise HTTPException(403, NOT_YOUR_OWN)


def _back(request: Request, next_path: object) -> RedirectResponse:
    """To the page of the list the button was on; only ever a page of that list."""
    list_path = url_path(request, "admin_accounts")
    is_list_page = isinstance(next_path, str) and (
        next_path == list_path or next_path.startswith(f"{list_path}?")
    )
    if is_list_page and not any(character in next_path for character in "\r\n\t\\"):
        return RedirectResponse(next_path, status_code=303)
    return RedirectResponse(list_path, status_code=303)
