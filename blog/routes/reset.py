"""A forgotten password: asking for a reset link by mail, and using one."""

from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from blog import throttle
from blog.db import SessionDep
from blog.deps import FormDep, require_csrf
from blog.forms import Form, validate_form
from blog.mail import reset_mail, send_mail
from blog.models import PasswordReset, PasswordResetRequest, User
from blog.pages import render
from blog.security import flash, start_session
from blog.throttle import Limit, Throttled
from blog.urls import url_path
from blog.users import get_user_by_email, password_reset_link, reset_password, user_for_reset_token

router = APIRouter()

LINK_GONE = (
    "This link to set a new password no longer works: it has been used, or it is more than "
    "an hour old. Ask for a new one."
)
MAIL_SENT = (
    "If an account has that email, a link to set a new password is on its way to it. "
    "The link works for an hour."
)
# Mails to one address an hour, whoever asks: enough for a lost mail or two, never a flood.
RESET_MAILS = Limit("reset-mail", 3, timedelta(hours=1))
# Far longer than any token we make; longer ones are not read at all.
TOKEN_MAX_LENGTH = 500
# The page's address holds the token: it is kept by no cache and sent to no other page.
PRIVATE_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def reset_by_mail(request: Request) -> None:
    """A 404 unless the site can send mail (SMTP_URL and MAIL_FROM are set)."""
    if not request.app.state.settings.mails_reset_links:
        raise HTTPException(404)


@router.get("/reset", name="reset_request_form", dependencies=[Depends(reset_by_mail)])
def reset_request_form(request: Request):
    return render(request, "auth/reset_request.html", {"form": Form()})


@router.post(
    "/reset", name="reset_request", dependencies=[Depends(reset_by_mail), Depends(require_csrf)]
)
def reset_request(
    request: Request, session: SessionDep, form_data: FormDep, background: BackgroundTasks
):
    form = validate_form(PasswordResetRequest, form_data)
    if form.data is None:
        return render(request, "auth/reset_request.html", {"form": form}, status_code=422)
    settings = request.app.state.settings
    email = form.data.email
    try:
        throttle.check(session=session, limit=RESET_MAILS, key=email)
    except Throttled:
        pass  # the same answer, and no mail
    else:
        # Counted whether or not the account exists, so both take the same time to answer.
        throttle.record(session=session, limit=RESET_MAILS, key=email)
        user = get_user_by_email(session=session, email=email)
        if user is not None:
            link = password_reset_link(user=user, settings=settings)
            # Sent after the answer, so how long the mail server takes tells nothing either.
            message = reset_mail(settings=settings, to=user.email, link=link)
            background.add_task(send_mail, settings.smtp_url, message)
    flash(request, MAIL_SENT)
    return RedirectResponse(url_path(request, "login_form"), status_code=303)


def _user_for_link(request: Request, session: SessionDep, token: str) -> User:
    user = None
    if len(token) <= TOKEN_MAX_LENGTH:
        user = user_for_reset_token(
            session=session, token=token, settings=request.app.state.settings
        )
    if user is None:
        raise HTTPException(410, LINK_GONE, headers=PRIVATE_PAGE_HEADERS)
    return user


@router.get("/reset/{token}", name="reset_form")
def reset_form(request: Request, session: SessionDep, token: str):
    _user_for_link(request, session, token)
    response = render(request, "auth/reset.html", {"form": Form(), "token": token})
    response.headers.update(PRIVATE_PAGE_HEADERS)
    return response


@router.post("/reset/{token}", name="reset_password", dependencies=[Depends(require_csrf)])
def reset(request: Request, session: SessionDep, token: str, form_data: FormDep):
    user = _user_for_link(request, session, token)
    form = validate_form(PasswordReset, form_data)
    if form.data is None:
        context = {"form": form, "token": token}
        response = render(request, "auth/reset.html", context, status_code=422)
        response.headers.update(PRIVATE_PAGE_HEADERS)
        return response
    reset_password(session=session, user=user, new_password=form.data.new_password)
    start_session(request, None)
    flash(request, "Your password is set, and every device is signed out. Log in with it now.")
    return RedirectResponse(url_path(request, "login_form"), status_code=303)
