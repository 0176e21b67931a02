"""The JSON API: an app of its own, mounted at /api/v1 by blog.app.

Its own app gives it its own OpenAPI schema (only its operations, at /api/v1/openapi.json) and
its own error handlers, so every answer it gives is JSON (errors as problem+json) while the
pages keep their HTML error pages. It shares the site's settings and engine.
"""

from typing import Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blog.api.deps import token_user
from blog.api.problems import PROBLEM_JSON, add_problem_handlers, problem
from blog.api.routes import API_PREFIX, COMMON_ERRORS, router
from blog.config import Settings
from blog.deps import allowed_host
from blog.models import BODY_MAX_LENGTH
from blog.urls import route_paths

# A blog's longest body sent with every character escaped (\ud83d\ude00 is 12 bytes a
# character at worst), and room for the other fields.
MAX_BODY_BYTES = 12 * BODY_MAX_LENGTH + 64 * 1024

__all__ = ["API_PREFIX", "create_api", "is_api_path"]


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(f"{API_PREFIX}/")


def create_api(settings: Settings, engine: Engine) -> FastAPI:
    api = FastAPI(
        title=f"{settings.site_name} API",
        version="1",
        summary="Blogs, authors, tags, search and comments, as JSON.",
        # The schema's paths are relative to this prefix, where blog.app mounts the API.
        servers=[{"url": API_PREFIX}],
        root_path_in_servers=False,
        openapi_url="/openapi.json",
        # Human-readable docs are a page of the site (/api/docs), drawn from the schema.
        docs_url=None,
        redoc_url=None,
        # The host is checked, and the token read, once for every operation.
        dependencies=[Depends(allowed_host), Depends(token_user)],
        responses=COMMON_ERRORS,
        # Each operation's id is its function's name (`list_blogs`), unique within the API.
        generate_unique_id_function=lambda route: route.name,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    api.state.settings = settings
    api.state.allowed_hosts = settings.host_names()
    api.state.engine = engine
    api.include_router(router)
    # Its own addresses by name (blog.urls), as the site's are.
    api.state.route_path = route_paths(api)
    # For the Allow header of a 405 (blog.api.problems).
    api.state.routes = [route for route in router.routes if isinstance(route, APIRoute)]
    api.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    add_problem_handlers(api)
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]
    return api


def _openapi(api: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every error answer's body as the problem+json it is."""
    if api.openapi_schema is None:
        schema = get_openapi(
            title=api.title,
            version=api.version,
            summary=api.summary,
            routes=api.routes,
            servers=api.servers,
        )
        for path in schema["paths"].values():
            for operation in path.values():
                for status, response in operation["responses"].items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        api.openapi_schema = schema
    return api.openapi_schema


class BodyLimit:
    """A 413 problem for a body larger than `max_bytes`: at once when its Content-Length says
    so (whether or not the operation reads a body), else as it arrives."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await problem(413, self._too_large)(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._too_large)
            return message

        await self.app(scope, receive_within_limit, send)

    @property
    def _too_large(self) -> str:
        return f"The body is larger than the {self.max_bytes:,} bytes the API accepts."
