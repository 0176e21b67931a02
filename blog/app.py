"""The app factory: settings in, a ready FastAPI app out."""

import logging
import sys
from contextlib import asynccontextmanager
from http import HTTPStatus
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import (
    DatabaseError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blog.api import API_PREFIX, create_api, is_api_path
from blog.api.problems import problem
from blog.caching import ConditionalGetMiddleware
from blog.changes import ChangeWatch
from blog.config import DEVELOPMENT_SECRET_KEY, Environment, Settings
from blog.db import database_is_unavailable, make_engine, one_line, thread_pool_size
from blog.deps import (
    BAD_HOST_MESSAGE,
    LoginRequired,
    MovedPermanently,
    allowed_host,
    host_is_allowed,
    optional_user,
)
from blog.forms import MAX_FORM_BYTES
from blog.front import add_front_door
from blog.logs import ClientDisconnect, client_disconnected, configure_logging
from blog.migrate import SchemaBehind, ensure_schema
from blog.pagecache import PageCache, PageStore
from blog.pages import make_templates, render
from blog.routes import (
    account,
    admin,
    api_docs,
    auth,
    blogs,
    comments,
    export,
    feeds,
    health,
    reset,
    search,
    tags,
    tokens,
    users,
)
from blog.security import SESSION_MAX_AGE_SECONDS
from blog.urls import route_paths, url_path

logger = logging.getLogger("blog")

SESSION_COOKIE = "blog_session"
# A backstop for bodies sent without a length (forms check theirs and answer with a page).
MAX_REQUEST_BYTES = 2 * MAX_FORM_BYTES

SECURITY_HEADERS = {
    # Authors may show pictures hosted elsewhere (Markdown images over https); scripts, styles
    # and everything else come only from this site.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

ERROR_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Page not found",
    405: "Method not allowed",
    410: "Link no longer works",
    413: "Too much data",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


FALLBACK_ERROR_PAGE = (
    "<!doctype html><title>Something went wrong</title>"
    "<h1>Something went wrong</h1><p>Please try again in a moment.</p>"
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings)
    settings.check_safe()
    secret_key = settings.secret_key
    if not secret_key:
        logger.warning(
            "SECRET_KEY is not set: sessions are signed with a public development key. "
            "Anyone can forge a login. Set SECRET_KEY before putting this site online."
        )
        secret_key = DEVELOPMENT_SECRET_KEY
    if settings.environment == Environment.PRODUCTION and settings.host_names() is None:
        logger.warning(
            "Neither BASE_URL nor ALLOWED_HOSTS is set: feeds and the sitemap take their "
            "addresses from each request's Host header. Set BASE_URL to the public address."
        )

    engine = make_engine(settings.database_url, **settings.engine_options())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # SQLite is brought up to date here; any other database is only checked, and a
        # schema that is behind stops the start-up with a message naming `blog db upgrade`.
        try:
            await run_in_threadpool(ensure_schema, engine)
        except (SchemaBehind, DBAPIError) as error:
            if isinstance(error, SchemaBehind):
                logger.error("%s", error)
            elif database_is_unavailable(error):
                database = engine.url.render_as_string(hide_password=True)
                logger.error(
                    "Cannot use the database %s at start-up: %s", database, one_line(error.orig)
                )
            else:
                raise
            # Said in one line: QuietStartupFailure keeps the traceback out of the server's log.
            app.state.explained_startup_failure = error
            raise
        if threads := thread_pool_size(engine):
            to_thread.current_default_thread_limiter().total_tokens = threads
        # The engine lives as long as the app object, not one serving of it (tests start an
        # app several times), so it is not disposed here; the process's exit closes it.
        yield
        # The cache's own connection to the database is opened again when next needed.
        if page_cache is not None:
            page_cache.close()

    app = FastAPI(
        title="blog",
        lifespan=lifespan,
        # Before anything else, so no page is built for a Host the site does not answer to.
        dependencies=[Depends(allowed_host)],
        max_body_size=MAX_REQUEST_BYTES,
        # No OpenTelemetry provider is set up here; looking for one costs every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Pages, not a JSON API: no generated API docs.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(QuietStartupFailure)
    app.state.settings = settings
    app.state.allowed_hosts = settings.host_names()
    app.state.engine = engine
    app.state.route_path = route_paths(app)
    app.state.templates = make_templates(settings, app.state.route_path)

    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    # The last added runs outermost. ETags sit outside the session, to see its Set-Cookie,
    # and inside the security headers, so a 304 gets the security headers too.
    app.add_middleware(ConditionalGetMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    # Around all of it, Starlette's 500 handling included: every answer gets its id and log
    # line, and a cached page skips everything else (its kept headers already hold the
    # security headers and ETag). A HEAD goes in as a GET, so it is hashed on the full body.
    app.state.page_cache = PageStore(max_bytes=settings.page_cache_bytes)
    page_cache = None
    if settings.page_cache_bytes > 0:
        watch = ChangeWatch(engine, connect_timeout=settings.database_connect_timeout)
        page_cache = PageCache(app.state.page_cache, watch)
    add_front_door(app, page_cache=page_cache, session_cookie=SESSION_COOKIE)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    # The JSON API: an app of its own, with its own schema and problem+json errors.
    app.state.api = create_api(settings, engine)
    app.mount(API_PREFIX, app.state.api, name="api")
    # Every page shows who is logged in, so every route loads the user once. A request is
    # matched against the routes in this order, one route after another (a few microseconds
    # each), so the pages read most come first: authors' (the users router is short and
    # shadows nothing), then feeds, which go before blogs, whose /blogs/{id}/{slug} would
    # otherwise take /blogs/{id}/comments.xml.
    for router in (
        users.router,
        feeds.router,
        blogs.router,
        tags.router,
        search.router,
        comments.router,
        auth.router,
        reset.router,
        account.router,
        admin.router,
        export.router,
        tokens.router,
        api_docs.router,
    ):
        app.include_router(router, dependencies=[Depends(optional_user)])
    # Probes: no user, no page, no database unless asked for readiness.
    app.include_router(health.router)
    _add_error_pages(app)
    return app


class QuietStartupFailure:
    """Sends a start-up failure the lifespan has explained in its log line without a traceback.

    Starlette tells the server that start-up failed with the traceback as the message, and
    uvicorn prints it: for a database that cannot be used or a schema that is behind, a page
    of our frames under the one line that says what to do.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_quietly(message: Message) -> None:
            # Starlette sends this while handling the error, so it is the one being handled.
            explained = getattr(scope["app"].state, "explained_startup_failure", None)
            if message["type"] == "lifespan.startup.failed" and sys.exc_info()[1] is explained:
                message = {**message, "message": ""}
            await send(message)

        await self.app(scope, receive, send_quietly)


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, error pages and static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.encode(), value.encode()))
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _load_user(request: Request) -> None:
    try:
        with Session(request.app.state.engine) as session:
            # An error page: last_seen_at can wait for the next page, so its write is dropped.
            await optional_user(request, session, BackgroundTasks())
    except SQLAlchemyError:
        request.state.user = None  # the page still renders, only without the user's name


def _add_error_pages(app: FastAPI) -> None:
    def error_page(request: Request, status_code: int, message: str | None = None):
        title = ERROR_TITLES.get(status_code, "Error")
        context = {"status_code": status_code, "title": title, "message": message}
        return render(request, "error.html", context, status_code=status_code)

    # A client that hung up mid-body: one quiet line, not an "Unhandled error".
    app.add_exception_handler(ClientDisconnect, client_disconnected)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        if not host_is_allowed(request):
            # No route matched (a 404 or 405), so the host check has not run yet.
            error = StarletteHTTPException(400, BAD_HOST_MESSAGE)
        if is_api_path(request.url.path):
            # An address the API's own app could not take (a newline in it): still no HTML.
            return problem(error.status_code, headers=error.headers)
        if not hasattr(request.state, "user"):
            # No route matched, so nothing loaded the user the page header shows.
            await _load_user(request)
        # Starlette's default detail is the bare status phrase; our pages say more than that.
        default_detail = HTTPStatus(error.status_code).phrase
        message = error.detail if error.detail != default_detail else None
        response = error_page(request, error.status_code, message)
        if error.headers:
            response.headers.update(error.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_address(request: Request, error: RequestValidationError):
        # Forms validate themselves; what reaches here is a malformed id or page number
        # in the address, which names nothing that exists.
        return error_page(request, 404)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(DatabaseError)
    async def database_unavailable(request: Request, error: DBAPIError):
        if not database_is_unavailable(error):
            # An IntegrityError, DataError, ProgrammingError...: a bug, for the 500 page.
            raise error
        # The pool checks connections before use and drops broken ones, so once the database
        # is back the next request simply works; until then every request says so, quickly.
        logger.error(
            "Database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            one_line(error.orig),
        )
        try:
            # Drawn from what the request already holds (the user's name was copied when
            # loaded), never from the session that just failed.
            response = error_page(request, 503)
        except Exception:
            logger.exception("The 503 page failed on %s %s", request.method, request.url.path)
            response = HTMLResponse(FALLBACK_ERROR_PAGE, status_code=503)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(MovedPermanently)
    async def moved_permanently(request: Request, moved: MovedPermanently):
        return RedirectResponse(moved.location, status_code=301)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, error: LoginRequired):
        location = url_path(request, "login_form")
        if error.next_path:
            location += "?" + urlencode({"next": error.next_path})
        return RedirectResponse(location, status_code=303)

    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception):
        logger.exception("Unhandled error on %s %s", request.method, request.url.path)
        try:
            response = error_page(request, 500)
        except Exception:
            # The templates themselves may be what failed; still answer with a page.
            response = HTMLResponse(FALLBACK_ERROR_PAGE, status_code=500)
        # This handler answers outside every middleware, so it adds the headers itself.
        response.headers.update(SECURITY_HEADERS)
        return response
