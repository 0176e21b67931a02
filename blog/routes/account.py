"""One's own account: the browsers logged in to it, and its password."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.datastructures import FormData

from blog import throttle
from blog.db import SessionDep
from blog.deps import MAX_ID, CurrentUser, FormDep, client_address, require_csrf
from blog.forms import Form, validate_form
from blog.models import PasswordChange, User
from blog.pages import render
from blog.security import flash, login_token, start_session
from blog.throttle import Throttled, login_counters
from blog.urls import url_path
from blog.users import (
    change_password,
    login_sessions,
    password_is_right,
    sign_out_login_session,
    sign_out_other_login_sessions,
)

router = APIRouter()

LoginSessionId = Annotated[int, Path(ge=1, le=MAX_ID)]
WRONG_PASSWORD = "That is not your password."  # noqa: S105 - a message, not a password
TOO_MANY_WRONG_PASSWORDS = "Too many wrong passwords."
NO_SUCH_SESSION = "There is no such session. It may have ended already."


@dataclass(frozen=True)
class Refusal:
    """Why a form that asks for the account's password goes back: its status and headers."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)


def confirm_password(
    request: Request, session: Session, user: User, form: Form, form_data: FormData, name: str
) -> Refusal | None:
    """Check the password typed into the form's field `name`; None when it is right.

    Wrong passwords count like failed logins, for the account and the address, so a cookie
    taken from a logged-in browser cannot be used to guess the password here either.
    """
    counters = login_counters(
        request.app.state.settings, address=client_address(request), email=user.email
    )
    try:
        throttle.check_all(session=session, counters=counters.all)
    except Throttled as throttled:
        form.add_error(
            name, f"{TOO_MANY_WRONG_PASSWORDS} Try again in {throttled.minutes} minutes."
        )
        return Refusal(429, {"Retry-After": str(throttled.seconds)})
    if name in form.errors:
        return Refusal(422)
    # Read from the form itself: a mistake in another field leaves the model unmade.
    typed = form_data.get(name)
    if not password_is_right(user=user, password=typed if isinstance(typed, str) else None):
        throttle.record_all(session=session, counters=counters.all)
        form.add_error(name, WRONG_PASSWORD)
        return Refusal(422)
    if counters.account is not None:
        throttle.clear(session=session, limit=counters.account.limit, key=counters.account.key)
    return None


def _render(request: Request, template: str, form: Form, refusal: Refusal):
    response = render(request, template, {"form": form}, status_code=refusal.status_code)
    response.headers.update(refusal.headers)
    return response


# Sessions


@router.get("/account/sessions", name="login_sessions")
def sessions(request: Request, session: SessionDep, user: CurrentUser):
    context = {
        "sessions": login_sessions(session=session, user=user, current_token=login_token(request))
    }
    return render(request, "account/sessions.html", context)


@router.post(
    "/account/sessions/sign-out-others",
    name="sign_out_other_sessions",
    dependencies=[Depends(require_csrf)],
)
def sign_out_others(request: Request, session: SessionDep, user: CurrentUser):
    # A logged-in user's cookie always names a session.
    ended = sign_out_other_login_sessions(
        session=session, user=user, current_token=login_token(request) or ""
    )
    flash(
        request, "Every other device is signed out." if ended else "No other device was signed in."
    )
    return RedirectResponse(url_path(request, "login_sessions"), status_code=303)


@router.post(
    "/account/sessions/{login_session_id}/sign-out",
    name="sign_out_session",
    dependencies=[Depends(require_csrf)],
)
def sign_out(
    request: Request, session: SessionDep, user: CurrentUser, login_session_id: LoginSessionId
):
    was_current = sign_out_login_session(
        session=session,
        user=user,
        login_session_id=login_session_id,
        current_token=login_token(request),
    )
    if was_current is None:
        raise HTTPException(404, NO_SUCH_SESSION)
    if was_current:
        start_session(request, None)
        flash(request, "You are logged out.")
        return RedirectResponse(url_path(request, "home"), status_code=303)
    flash(request, "That device is signed out.")
    return RedirectResponse(url_path(request, "login_sessions"), status_code=303)


# Password


@router.get("/account/password", name="password_form")
def password_form(request: Request, user: CurrentUser):
    return render(request, "account/password.html", {"form": Form()})


@router.post("/account/password", name="change_password", dependencies=[Depends(require_csrf)])
def password(request: Request, session: SessionDep, user: CurrentUser, form_data: FormDep):
    form = validate_form(PasswordChange, form_data)
    refusal = confirm_password(request, session, user, form, form_data, "current_password")
    if refusal is not None:
        return _render(request, "account/password.html", form, refusal)
    if form.data is None:
        return _render(request, "account/password.html", form, Refusal(422))
    change_password(
        session=session,
        user=user,
        new_password=form.data.new_password,
        keep_token=login_token(request) or "",
    )
    flash(request, "Your password is changed. Every other device is signed out.")
    return RedirectResponse(url_path(request, "author_page", user_id=user.id), status_code=303)
