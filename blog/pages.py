"""Rendering pages: the Jinja2 environment and what every page's layout needs."""

import contextlib
from collections import OrderedDict
from datetime import datetime
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment as JinjaEnvironment
from markupsafe import Markup
from starlette.responses import HTMLResponse

from blog.blogs import BlogSummary
from blog.config import Environment, Registration, Settings
from blog.models import UserPublic
from blog.security import csrf_token, pop_flashes
from blog.text import excerpt, reading_minutes, render_markdown
from blog.urls import RoutePath, absolute_url

# The template whose `blog_card` macro draws a card, and how many cards are kept (CardCache).
CARDS_TEMPLATE = "_blogs.html"
CARDS_KEPT = 4096


def make_templates(settings: Settings, route_path: RoutePath) -> Jinja2Templates:
    templates = Jinja2Templates(
        directory=settings.templates_dir, context_processors=[_layout_context]
    )
    # Looking for changed templates costs a file check each time a page is drawn: only while
    # developing, where an edited template should show on the next reload.
    templates.env.auto_reload = settings.environment == Environment.DEVELOPMENT
    templates.env.globals["site_name"] = settings.site_name
    templates.env.globals["site_description"] = settings.site_description
    # With sign-ups by invitation only, no page offers a form that would answer 403.
    templates.env.globals["registration_open"] = settings.registration == Registration.OPEN
    # Every address on a page comes from its route's name, through the environment (not the
    # request's context: `_blogs.html` is imported without context). Templates write it as a
    # filter, `"blog_page"|url(blog_id=…, slug=…)`: Jinja calls a filter directly and turns
    # `"tags"|url`, with no parameter, into text when it compiles the template, where a call
    # of the global `url("tags")` goes through Context.call, a microsecond each time; a list
    # page has a hundred or so links.
    templates.env.filters["url"] = route_path
    templates.env.globals["url"] = route_path
    templates.env.globals["absolute_url"] = absolute_url
    # The login page links to /reset only where that page can mail a link.
    templates.env.globals["reset_by_mail"] = settings.mails_reset_links
    # Whether a blog's page offers visitors who are not logged in a comment form.
    templates.env.globals["guest_comments"] = settings.guest_comments
    templates.env.filters["date"] = _format_date
    templates.env.filters["datetime"] = _format_datetime
    templates.env.filters["markdown"] = render_markdown
    templates.env.filters["excerpt"] = excerpt
    templates.env.filters["reading_minutes"] = reading_minutes
    templates.env.filters["card"] = CardCache(templates.env)
    return templates


class CardCache:
    """A blog's card in a list, drawn once and kept: the `card` filter, `blog|card(...)`.

    Lists draw the same blogs' cards for everyone, logged in or not, over and over, and the
    twenty cards of a page were a third of its time. A card shows only what its key holds (the
    blog's title, body, author, tags and times, its status now, its comment count, and how it is
    drawn), so a kept card is the one that would be drawn, whatever the database did meanwhile.
    The least recently used go first past CARDS_KEPT, about a kilobyte each. While developing,
    an edited template's cards are drawn again.
    """

    def __init__(self, environment: JinjaEnvironment, size: int = CARDS_KEPT) -> None:
        self._environment = environment
        self._size = size
        self._cards: OrderedDict[tuple, Markup] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cards)

    def __call__(self, blog: BlogSummary, show_author: bool = True, heading: str = "h2") -> Markup:
        template = (
            self._environment.get_template(CARDS_TEMPLATE)
            if self._environment.auto_reload
            else None
        )
        # Everything the card shows. The body by its hash: a kept key holds no body, and the
        # same id and times with another body (an id reused after a delete, a database put
        # back from a copy) still miss.
        key = (
            template,
            blog.id,
            blog.title,
            hash(blog.body),
            blog.author,
            blog.tags,
            blog.updated_at,
            blog.published_at,
            blog.suspended_published_at,
            blog.status,
            blog.comment_count,
            show_author,
            heading,
        )
        cards = self._cards
        card = cards.get(key)
        if card is not None:
            # try costs nothing here, where contextlib.suppress would cost every card a call.
            try:  # noqa: SIM105
                cards.move_to_end(key)
            except KeyError:
                pass  # another thread dropped it meanwhile: it is still this card
            return card
        template = template or self._environment.get_template(CARDS_TEMPLATE)
        card = template.module.blog_card(blog, show_author, heading)
        cards[key] = card
        if len(cards) > self._size:
            # Another thread may have taken the same one first.
            with contextlib.suppress(KeyError):
                cards.popitem(last=False)
        return card


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context or {}, status_code=status_code)


def _layout_context(request: Request) -> dict[str, Any]:
    # The copy `optional_user` took: a page (an error page above all) never loads the user
    # from a session that may have failed since.
    user = getattr(request.state, "user", None)
    return {
        "current_user": user if isinstance(user, UserPublic) else None,
        # A callable, so only pages with a form give the visitor a session cookie.
        "csrf_token": lambda: csrf_token(request),
        "flashes": pop_flashes(request),
    }


# Lists draw the same blogs' dates on every request.
@lru_cache(maxsize=4096)
def _format_date(moment: datetime) -> str:
    return f"{moment:%B} {moment.day}, {moment:%Y}"


def _format_datetime(moment: datetime) -> str:
    return f"{_format_date(moment)}, {moment:%H:%M} UTC"
