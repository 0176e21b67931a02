"""Health checks for load balancers and orchestrators: is the process up, can it serve.

Both answer one line of plain text, never a page: no template, no session, no logged-in
user, no cookie, and `Cache-Control: no-store` so no cache (nor our ETags) keeps an answer.
"""

import logging
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import DBAPIError

from blog.db import one_line
from blog.migrate import current_revision, head_revision

router = APIRouter()
logger = logging.getLogger("blog")

NO_STORE = {"Cache-Control": "no-store"}
# Long enough for any message a driver gives, short enough to stay one readable line.
MAX_DETAIL_CHARS = 300


@router.get("/healthz", name="healthz")
async def healthz() -> PlainTextResponse:
    """The process is up and answering; the database is not asked."""
    return PlainTextResponse("ok", headers=NO_STORE)


@router.get("/readyz", name="readyz")
def readyz(request: Request) -> PlainTextResponse:
    """Ready when the database answers and its schema is the one this code needs."""
    problem = readiness_problem(request.app)
    _log_change(request.app, problem)
    if problem is not None:
        headers = {**NO_STORE, "Retry-After": "5"}
        return PlainTextResponse(problem.answer, status_code=503, headers=headers)
    return PlainTextResponse("ready", headers=NO_STORE)


@dataclass(frozen=True)
class Problem:
    """Why the app cannot serve: `answer` for anyone asking, `detail` for the log only (a
    driver's message can name internal hosts and users)."""

    answer: str
    detail: str


def readiness_problem(app: FastAPI) -> Problem | None:
    """What keeps the app from serving; None when nothing does."""
    engine = app.state.engine
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        current = current_revision(engine)
    except Exception as error:  # whatever fails, a probe gets its one line, never a 500
        cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
        answer = f"Database unavailable ({type(cause).__name__})"
        return Problem(answer, f"{answer}: {one_line(cause)[:MAX_DETAIL_CHARS]}")
    head = _schema_head(app)
    if current != head:
        answer = (
            f"Database schema is at revision {current or 'none'}, this code needs {head}: "
            "run `blog db upgrade`"
        )
        return Problem(answer, answer)
    return None


def _schema_head(app: FastAPI) -> str | None:
    """The newest revision, read from the migration scripts once per app."""
    try:
        return app.state.schema_head
    except AttributeError:
        app.state.schema_head = head_revision(app.state.engine)
        return app.state.schema_head


def _log_change(app: FastAPI, problem: Problem | None) -> None:
    """One WARNING when readiness is lost (or its reason changes), one INFO when it is back.

    Probes come every few seconds; each is already in the request log with its status.
    """
    previous = getattr(app.state, "readiness_problem", None)
    if problem == previous:
        return
    app.state.readiness_problem = problem
    if problem is not None:
        logger.warning("Not ready: %s", problem.detail)
    else:
        logger.info("Ready again: the database answers and its schema is current")
