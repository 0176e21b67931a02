"""One's own API tokens: made, listed and revoked on one page."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from blog.db import SessionDep
from blog.deps import MAX_ID, CurrentUser, FormDep, require_csrf
from blog.forms import Form, validate_form
from blog.models import ApiTokenCreate, User
from blog.pages import render
from blog.security import flash
from blog.tokens import create_token, revoke_token, tokens_of
from blog.urls import url_path

router = APIRouter()

TOKENS_PATH = "/account/tokens"
TokenId = Annotated[int, Path(ge=1, le=MAX_ID)]
NO_SUCH_TOKEN = "There is no such token. It may have been revoked already."  # noqa: S105
# The page that shows a new token: kept by no cache, and the token never leaves in a Referer.
NEW_TOKEN_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get(TOKENS_PATH, name="api_tokens")
def tokens(request: Request, session: SessionDep, user: CurrentUser):
    return _tokens_page(request, session, user, Form())


@router.post(TOKENS_PATH, name="create_api_token", dependencies=[Depends(require_csrf)])
def create(request: Request, session: SessionDep, user: CurrentUser, form_data: FormDep):
    form = validate_form(ApiTokenCreate, form_data)
    if form.data is None:
        return _tokens_page(request, session, user, form, status_code=422)
    token = create_token(session=session, user=user, token_create=form.data)
    # Shown on this answer only: it is not kept anywhere it could be shown again.
    response = _tokens_page(request, session, user, Form(), new_token=token)
    response.headers.update(NEW_TOKEN_HEADERS)
    return response


@router.post(
    f"{TOKENS_PATH}/{{token_id}}/delete",
    name="revoke_api_token",
    dependencies=[Depends(require_csrf)],
)
def delete(request: Request, session: SessionDep, user: CurrentUser, token_id: TokenId):
    if not revoke_token(session=session, user=user, token_id=token_id):
        raise HTTPException(404, NO_SUCH_TOKEN)
    flash(request, "The token is revoked: requests that send it are refused from now on.")
    return RedirectResponse(url_path(request, "api_tokens"), status_code=303)


def _tokens_page(
    request: Request,
    session: Session,
    user: User,
    form: Form,
    *,
    new_token: str | None = None,
    status_code: int = 200,
):
    context = {
        "tokens": tokens_of(session=session, user=user),
        "form": form,
        "new_token": new_token,
    }
    return render(request, "account/tokens.html", context, status_code=status_code)
