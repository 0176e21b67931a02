"""Signing up, logging in and out."""

from datetime import timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from blog import throttle
from blog.config import Registration
from blog.db import SessionDep
from blog.deps import FormDep, client_address, require_csrf
from blog.forms import Form, validate_form
from blog.invites import claim_invite, invite_is_valid
from blog.models import User, UserCreate, UserLogin
from blog.pages import render
from blog.security import flash, login_token, start_session
from blog.throttle import Limit, Throttled, login_counters
from blog.urls import url_path
from blog.users import (
    EmailTaken,
    authenticate,
    create_user,
    end_login_session,
    open_login_session,
)

router = APIRouter()

LOGIN_FAILED = "Wrong email or password."
REGISTER = "register"
TOO_MANY_REGISTRATIONS = "Too many sign-ups have come from your network in the last hour."
TOO_MANY_FAILED_LOGINS = "Too many failed logins."
ACCOUNT_SUSPENDED = (
    "This account is suspended, so it cannot log in. If you think this is a mistake, "
    "write to the site's admins."
)
REGISTRATION_CLOSED = "Sign-ups here are by invitation only. Ask the site's admins for one."
INVITE_NO_LONGER_WORKS = (
    "This invitation no longer works: it has been used already, it is more than 7 days old, "
    "or the link is not complete. Ask the site's admins for a new one."
)


def safe_next_path(request: Request, next_path: str | None) -> str:
    """Only a path on this site, so a crafted link cannot send a visitor elsewhere (else the
    home page)."""
    if (
        next_path
        and next_path.startswith("/")
        and not next_path.startswith(("//", "/\\"))
        and not any(character in next_path for character in "\r\n\t")
    ):
        return next_path
    return url_path(request, "home")


@router.get("/register", name="register_form")
def register_form(request: Request, session: SessionDep, invite: str | None = None):
    invite = _usable_invite(request, session, invite)
    return render(request, "auth/register.html", {"form": Form(), "invite": invite})


@router.post("/register", name="register", dependencies=[Depends(require_csrf)])
def register(request: Request, session: SessionDep, form_data: FormDep):
    invite = _usable_invite(request, session, form_data.get("invite"))
    form = validate_form(UserCreate, form_data)
    context = {"form": form, "invite": invite}
    limit = _registration_limit(request)
    address = client_address(request)
    try:
        throttle.check(session=session, limit=limit, key=address)
    except Throttled as throttled:
        form.add_error("", f"{TOO_MANY_REGISTRATIONS} Try again in {throttled.minutes} minutes.")
        response = render(request, "auth/register.html", context, status_code=429)
        response.headers["Retry-After"] = str(throttled.seconds)
        return response
    if form.data is not None:
        # Claimed in the account's own transaction: a refused email gives the invitation back.
        if invite is not None and not claim_invite(session=session, token=invite):
            raise HTTPException(403, INVITE_NO_LONGER_WORKS)
        try:
            user = create_user(session=session, user_create=form.data)
        except EmailTaken:
            # Saying so helps people who forgot they have an account, and also tells a
            # stranger the email is registered: counting these refusals like new accounts
            # bounds how many emails one address can try.
            throttle.record(session=session, limit=limit, key=address)
            form.add_error("email", EmailTaken.message)
        else:
            throttle.record(session=session, limit=limit, key=address)
            log_in(request, session, user)
            flash(request, f"Welcome, {user.name}! You can write your first blog now.")
            return RedirectResponse(url_path(request, "home"), status_code=303)
    return render(request, "auth/register.html", context, status_code=422)


@router.get("/login", name="login_form")
def login_form(request: Request, next: str | None = None):
    return render(
        request, "auth/login.html", {"form": Form(), "next": safe_next_path(request, next)}
    )


@router.post("/login", name="login", dependencies=[Depends(require_csrf)])
def login(request: Request, session: SessionDep, form_data: FormDep):
    next_path = safe_next_path(request, _text(form_data.get("next")))
    form = validate_form(UserLogin, form_data)
    counters = login_counters(
        request.app.state.settings,
        address=client_address(request),
        email=form.data.email if form.data else None,
    )
    context = {"form": form, "next": next_path}
    try:
        # Before the password is looked at, so guessing on gets no answer at all.
        throttle.check_all(session=session, counters=counters.all)
    except Throttled as throttled:
        form.add_error("", f"{TOO_MANY_FAILED_LOGINS} Try again in {throttled.minutes} minutes.")
        response = render(request, "auth/login.html", context, status_code=429)
        response.headers["Retry-After"] = str(throttled.seconds)
        return response
    if form.data is None:
        return render(request, "auth/login.html", context, status_code=422)
    user = authenticate(session=session, email=form.data.email, password=form.data.password)
    if user is not None and user.is_suspended:
        # Said only once the password is right, so it tells nothing to anyone without it.
        form.add_error("", ACCOUNT_SUSPENDED)
        return render(request, "auth/login.html", context, status_code=403)
    if user is None:
        throttle.record_all(session=session, counters=counters.all)
        # One message for both cases, so the form does not reveal which emails have accounts.
        form.add_error("", LOGIN_FAILED)
        return render(request, "auth/login.html", context, status_code=400)
    if counters.account is not None:
        throttle.clear(session=session, limit=counters.account.limit, key=counters.account.key)
    log_in(request, session, user)
    flash(request, f"Welcome back, {user.name}.")
    return RedirectResponse(next_path, status_code=303)


@router.post("/logout", name="logout", dependencies=[Depends(require_csrf)])
def logout(request: Request, session: SessionDep):
    # The session ends in the database, so a copy of this cookie is logged out too.
    end_login_session(session=session, token=login_token(request))
    start_session(request, None)
    flash(request, "You are logged out.")
    return RedirectResponse(url_path(request, "home"), status_code=303)


def log_in(request: Request, session: SessionDep, user: User) -> None:
    """Start a login session for the user in this browser, ending the one it had."""
    token = open_login_session(
        session=session,
        user=user,
        user_agent=request.headers.get("user-agent", ""),
        replacing=login_token(request),
    )
    start_session(request, token)


def _usable_invite(request: Request, session: Session, token: object) -> str | None:
    """With registration closed, the invitation the sign-up comes with, or a 403 page when it
    has none that works; with registration open, None (an invitation is not needed)."""
    if request.app.state.settings.registration == Registration.OPEN:
        return None
    if not token:
        raise HTTPException(403, REGISTRATION_CLOSED)
    if not isinstance(token, str) or not invite_is_valid(session=session, token=token):
        raise HTTPException(403, INVITE_NO_LONGER_WORKS)
    return token


def _registration_limit(request: Request) -> Limit:
    per_hour = request.app.state.settings.registrations_per_address
    return Limit(REGISTER, per_hour, timedelta(hours=1))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
