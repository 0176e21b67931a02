"""Admins: every account, with the buttons that suspend, reinstate or delete it."""

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from blog.db import SessionDep
from blog.deps import AdminUser, ExistingUser, FormDep, require_csrf
from blog.models import User
from blog.pages import render
from blog.paging import FIRST_PAGE, NO_SUCH_PAGE, AuthorListPosition
from blog.security import flash
from blog.users import accounts_page, delete_user, reinstate_user, suspend_user

router = APIRouter()

ACCOUNTS_PATH = "/admin/users"
NOT_YOUR_OWN = (
    "That is your own account: an admin cannot suspend or delete it from here. "
    "Your profile has the button to delete it."
)


@router.get(ACCOUNTS_PATH)
def accounts(request: Request, session: SessionDep, admin: AdminUser, position: AuthorListPosition):
    page = accounts_page(
        session=session, position=position, page_size=request.app.state.settings.page_size
    )
    if position != FIRST_PAGE and not page.accounts:
        raise HTTPException(404, NO_SUCH_PAGE)
    # The buttons bring the admin back to this same page of the list.
    back = ACCOUNTS_PATH + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "admin/users.html", {"page": page, "back": back})


# The admin comes first, so a visitor is sent to log in and anyone else gets 403 before an
# id is looked up.
@router.post(f"{ACCOUNTS_PATH}/{{user_id}}/suspend", dependencies=[Depends(require_csrf)])
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
    return _back(form_data.get("next"))


@router.post(f"{ACCOUNTS_PATH}/{{user_id}}/reinstate", dependencies=[Depends(require_csrf)])
def reinstate(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    account: ExistingUser,
    form_data: FormDep,
):
    reinstate_user(session=session, user=account)
    flash(request, f"{account.name} is reinstated: they can log in, and their blogs are back.")
    return _back(form_data.get("next"))


@router.post(f"{ACCOUNTS_PATH}/{{user_id}}/delete", dependencies=[Depends(require_csrf)])
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
    return _back(form_data.get("next"))


def _not_own(admin: User, account: User) -> None:
    if account.id == admin.id:
        raise HTTPException(403, NOT_YOUR_OWN)


def _back(next_path: object) -> RedirectResponse:
    """To the page of the list the button was on; only ever a page of that list."""
    is_list_page = isinstance(next_path, str) and (
        next_path == ACCOUNTS_PATH or next_path.startswith(f"{ACCOUNTS_PATH}?")
    )
    if is_list_page and not any(character in next_path for character in "\r\n\t\\"):
        return RedirectResponse(next_path, status_code=303)
    return RedirectResponse(ACCOUNTS_PATH, status_code=303)
