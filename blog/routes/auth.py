"""Signing up, logging in and out."""

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from blog import throttle
from blog.db import SessionDep
from blog.deps import FormDep, client_address, require_csrf
from blog.forms import Form, validate_form
from blog.models import UserCreate, UserLogin
from blog.pages import render
from blog.security import flash, start_session
from blog.throttle import Limit, Throttled
from blog.users import EmailTaken, authenticate, create_user

router = APIRouter()

LOGIN_FAILED = "Wrong email or password."
REGISTER = "register"
TOO_MANY_REGISTRATIONS = "Too many sign-ups have come from your network in the last hour."


def safe_next_path(next_path: str | None) -> str:
    """Only a path on this site, so a crafted link cannot send a visitor elsewhere."""
    if (
        next_path
        and next_path.startswith("/")
        and not next_path.startswith(("//", "/\\"))
        and not any(character in next_path for character in "\r\n\t")
    ):
        return next_path
    return "/"


@router.get("/register")
def register_form(request: Request):
    return render(request, "auth/register.html", {"form": Form()})


@router.post("/register", dependencies=[Depends(require_csrf)])
def register(request: Request, session: SessionDep, form_data: FormDep):
    form = validate_form(UserCreate, form_data)
    limit = _registration_limit(request)
    address = client_address(request)
    try:
        throttle.check(session=session, limit=limit, key=address)
    except Throttled as throttled:
        form.add_error("", f"{TOO_MANY_REGISTRATIONS} Try again in {throttled.minutes} minutes.")
        response = render(request, "auth/register.html", {"form": form}, status_code=429)
        response.headers["Retry-After"] = str(throttled.seconds)
        return response
    if form.data is not None:
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
            start_session(request, user.id)
            flash(request, f"Welcome, {user.name}! You can write your first blog now.")
            return RedirectResponse("/", status_code=303)
    return render(request, "auth/register.html", {"form": form}, status_code=422)


@router.get("/login")
def login_form(request: Request, next: str | None = None):
    return render(request, "auth/login.html", {"form": Form(), "next": safe_next_path(next)})


@router.post("/login", dependencies=[Depends(require_csrf)])
def login(request: Request, session: SessionDep, form_data: FormDep):
    next_path = safe_next_path(_text(form_data.get("next")))
    form = validate_form(UserLogin, form_data)
    if form.data is None:
        status_code = 422
    else:
        user = authenticate(session=session, email=form.data.email, password=form.data.password)
        if user is not None:
            start_session(request, user.id)
            flash(request, f"Welcome back, {user.name}.")
            return RedirectResponse(next_path, status_code=303)
        # One message for both cases, so the form does not reveal which emails have accounts.
        form.add_error("", LOGIN_FAILED)
        status_code = 400
    context = {"form": form, "next": next_path}
    return render(request, "auth/login.html", context, status_code=status_code)


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request):
    start_session(request, None)
    flash(request, "You are logged out.")
    return RedirectResponse("/", status_code=303)


def _registration_limit(request: Request) -> Limit:
    per_hour = request.app.state.settings.registrations_per_address
    return Limit(REGISTER, per_hour, timedelta(hours=1))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
