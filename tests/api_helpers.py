"""What the API tests share: tokens made straight in the database, and their headers."""

import httpx2
from sqlmodel import Session

from blog.models import ApiTokenCreate, User
from blog.tokens import create_token

PROBLEM_JSON = "application/problem+json"


def make_token(session: Session, user: User, name: str = "script") -> str:
    return create_token(session=session, user=user, token_create=ApiTokenCreate(name=name))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx2.Response, status_code: int) -> dict:
    """The response is an RFC 9457 problem with this status; its body."""
    assert response.status_code == status_code, response.text[:2000]
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == status_code
    assert problem["type"] == "about:blank"
    assert problem["title"]
    return problem
