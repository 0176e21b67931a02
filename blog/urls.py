"""Addresses on this site, made from the routes' names: each path is written once, in its route.

`route_paths(app)` makes the function templates call as `url(name, **params)` and Python code
reaches through `url_path(request, name, **params)`. It answers what `app.url_path_for` would,
as a string, with two differences:

- every parameter is percent-escaped (Starlette puts them in as they are, so a tag `c#` would
  end its path at the `#`, and `web dev` would hold a space);
- it is quick: Starlette is asked once per route for its path, and answers are remembered,
  since the lists draw the same blogs', authors' and tags' addresses on every request.
"""

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.applications import Starlette

# Enough for every address a few busy pages link to, many times over; a cached path is about
# 100 bytes.
CACHED_PATHS = 16_384

RoutePath = Callable[..., str]
# What never needs escaping in a path segment (RFC 3986's unreserved characters).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


def route_paths(app: Starlette) -> RoutePath:
    """The function that gives the path of the app's route `name` with these parameters.

    Each route's path is asked of Starlette once, with a marker for each parameter, then
    filled in: Starlette spends some 100 µs finding a route among ours (FastAPI wraps each
    included router, and every route that is not the one raises and catches an exception).
    An unknown name, or parameters that are not the route's, raise Starlette's NoMatchFound.
    """
    formats: dict[tuple[str, tuple[str, ...]], str] = {}

    def path_format(name: str, keys: tuple[str, ...]) -> str:
        """The route's path as a format string: `/blogs/{blog_id}/{slug}`."""
        try:
            return formats[name, keys]
        except KeyError:
            path = str(app.url_path_for(name, **{key: _marker(key) for key in keys}))
            path = path.replace("{", "{{").replace("}", "}}")
            for key in keys:
                path = path.replace(_marker(key), "{" + key + "}")
            formats[name, keys] = path
            return path

    # typed: True and 1 are equal keys, but `/users/True` is not `/users/1`.
    @lru_cache(maxsize=CACHED_PATHS, typed=True)
    def route_path(name: str, /, **params: Any) -> str:
        escaped = {key: _escaped(key, value) for key, value in params.items()}
        return path_format(name, tuple(params)).format_map(escaped)

    return route_path


def url_path(request: Request, name: str, /, **params: Any) -> str:
    """The path of the route `name` with these parameters, e.g. for a redirect."""
    return request.app.state.route_path(name, **params)


def absolute_url(request: Request, path: str) -> str:
    """The full address of a path on this site, for feeds, the sitemap and canonical links.

    BASE_URL when it is set, so a site behind a proxy or CDN never publishes an internal
    address and a forged Host header never reaches a published link.
    """
    base_url = request.app.state.settings.base_url or str(request.base_url)
    return base_url.rstrip("/") + path


def absolute_url_for(request: Request, name: str, /, **params: Any) -> str:
    """The full address of the route `name` with these parameters (see absolute_url)."""
    return absolute_url(request, url_path(request, name, **params))


def _marker(key: str) -> str:
    """Where a parameter goes: a text no address holds, which the string and path converters
    (the ones FastAPI's and Starlette's routes here use) keep as it is."""
    return f"\x00{key}\x00"


def _escaped(key: str, value: Any) -> str:
    text = str(value)
    if _UNRESERVED.fullmatch(text):
        return text  # ids and slugs: nothing to escape, and quote() is the slow part
    if not text:
        raise ValueError(f"The address parameter {key!r} is empty.")
    # A mount's `path` (a static file's) keeps its slashes, as Starlette writes it; anything
    # else is one segment, `/` included.
    return quote(text.lstrip("/"), safe="/") if key == "path" else quote(text, safe="")
