"""Every API error as `application/problem+json` (RFC 9457), and the handlers that make them.

The API is an app of its own (blog.api.create_api), so these handlers answer only its
requests and the pages keep their HTML error pages.
"""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import get_route_path

from blog.db import database_is_unavailable, one_line
from blog.deps import BAD_HOST_MESSAGE, host_is_allowed
from blog.forms import error_message
from blog.logs import ClientDisconnect, client_disconnected
from blog.throttle import Throttled

logger = logging.getLogger("blog")

PROBLEM_JSON = "application/problem+json"


class ProblemField(BaseModel):
    """One invalid field of a request: where it is, its name, and what is wrong with it."""

    location: str
    field: str
    detail: str


class Problem(BaseModel):
    """An error, as RFC 9457 describes it; `errors` (422 only) has one entry per invalid field."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemField] | None = None


def problem(
    status: int,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    errors: list[ProblemField] | None = None,
) -> JSONResponse:
    content: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase}
    content["status"] = status
    if detail:
        content["detail"] = detail
    if errors is not None:
        content["errors"] = [error.model_dump() for error in errors]
    return JSONResponse(content, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def invalid_fields(errors: Sequence[Any]) -> list[ProblemField]:
    """One entry per invalid field, with the first message for it, in words a person reads (the
    forms' own messages: the rules and their wording live in blog.models)."""
    by_field: dict[tuple[str, str], str] = {}
    for error in errors:
        location, field = _where(error.get("loc", ()))
        message = _message(error)
        by_field.setdefault((location, field), message)
    return [
        ProblemField(location=location, field=field, detail=message)
        for (location, field), message in by_field.items()
    ]


def _message(error: dict[str, Any]) -> str:
    # The forms' words say "Must be text." for any wrong type; a form only ever sends text,
    # JSON may send a number where a list belongs.
    if error["type"].endswith("_type") and error["type"] != "string_type":
        return str(error["msg"])
    return error_message(error)  # type: ignore[arg-type]


def _methods_at(request: Request) -> list[str]:
    """The methods the API answers at this address (`api.state.routes`: its APIRouter's)."""
    path = get_route_path(request.scope)
    methods: set[str] = set()
    for route in request.app.state.routes:
        if route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)


def _where(loc: Sequence[Any]) -> tuple[str, str]:
    """("body", "tags", 3) → ("body", "tags"); a body that is no object at all → ("body", "")."""
    if not loc:
        return "body", ""
    location = str(loc[0])
    return location, str(loc[1]) if len(loc) > 1 else ""


def add_problem_handlers(api: FastAPI) -> None:
    api.add_exception_handler(ClientDisconnect, client_disconnected)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        if not host_is_allowed(request):
            # No route matched (a 404 or 405), so the host check has not run yet.
            return problem(400, BAD_HOST_MESSAGE)
        default_detail = HTTPStatus(error.status_code).phrase
        detail = error.detail if error.detail != default_detail else None
        headers = error.headers
        if error.status_code == 405:
            # Starlette names the methods of the first route on the path; there is one a method.
            headers = {**(headers or {}), "Allow": ", ".join(_methods_at(request))}
        return problem(error.status_code, detail, headers=headers)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        if any(detail.get("loc", ("",))[0] == "path" for detail in error.errors()):
            # A malformed id in the address names nothing that exists.
            return problem(404, "There is nothing at this address.")
        return problem(
            422, "Some fields are not valid.", errors=invalid_fields(list(error.errors()))
        )

    @api.exception_handler(Throttled)
    async def throttled(request: Request, error: Throttled):
        return problem(
            429,
            "Too many requests with this token: try again after the Retry-After seconds.",
            headers={"Retry-After": str(error.seconds)},
        )

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    @api.exception_handler(DatabaseError)
    async def database_unavailable(request: Request, error: DBAPIError):
        if not database_is_unavailable(error):
            raise error  # a bug, for the 500
        logger.error(
            "Database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            one_line(error.orig),
        )
        return problem(503, "The database is unavailable just now.", headers={"Retry-After": "5"})

    @api.exception_handler(Exception)
    async def server_error(request: Request, error: Exception):
        # The error goes on to the site's own handler, which logs it.
        return problem(500, "Something went wrong on our side.")
