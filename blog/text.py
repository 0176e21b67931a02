"""Blog bodies to safe HTML and plain text: authors write Markdown, readers get no XSS."""

import html
import math
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {
        # What Markdown produces.
        *("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "img"),
        *("table", "thead", "tbody", "tr", "th", "td"),
        # Harmless raw-HTML extras authors reach for.
        *("sub", "sup", "kbd", "abbr", "details", "summary", "mark"),
    }
)
ALLOWED_ATTRIBUTES = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title"}),
    "ol": frozenset({"start"}),
    "th": frozenset({"align"}),
    "td": frozenset({"align"}),
    "code": frozenset({"class"}),
    "abbr": frozenset({"title"}),
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+-]+")
_ALIGNMENTS = frozenset({"left", "center", "right"})
_TEXT_ALIGN = re.compile(r"text-align:(left|center|right)")


def _table_align_to_attribute(state: StateCore) -> None:
    """Turn markdown-it's style="text-align:…" on table cells into align=…, as style is banned."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and (style := token.attrGet("style")):
            del token.attrs["style"]
            if match := _TEXT_ALIGN.fullmatch(str(style)):
                token.attrSet("align", match[1])


_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_markdown.core.ruler.push("table_align_to_attribute", _table_align_to_attribute)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Narrow the allowed attributes to safe values: code languages and table alignments only."""
    if tag == "code" and attribute == "class":
        return " ".join(c for c in value.split() if _LANGUAGE_CLASS.fullmatch(c)) or None
    if attribute == "align":
        return value if value.lower() in _ALIGNMENTS else None
    return value


_sanitizer = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_filter_attribute,
    url_schemes=set(ALLOWED_URL_SCHEMES),
    link_rel="nofollow noopener noreferrer",
)
_tag_stripper = nh3.Cleaner(tags=set(), attributes={})


@lru_cache(maxsize=512)
def render_markdown(body: str) -> Markup:
    """Render an author's Markdown (raw HTML allowed) to HTML that is safe to embed in a page."""
    return Markup(_sanitizer.clean(_markdown.render(body)))  # noqa: S704 - sanitized by nh3 above


@lru_cache(maxsize=512)
def plain_text(body: str) -> str:
    """The body as readers would read it, without markup, for summaries and word counts."""
    text = html.unescape(_tag_stripper.clean(render_markdown(body)))
    return " ".join(text.split())


@lru_cache(maxsize=512)
def excerpt(body: str, length: int = 200) -> str:
    """A teaser of at most `length` characters (plus "…" when cut) that ends on a whole word."""
    text = plain_text(body)
    if len(text) <= length:
        return text
    head = text[: length + 1]
    head = head.rsplit(" ", 1)[0] if " " in head else text[:length]
    return head + "…"


@lru_cache(maxsize=512)
def reading_minutes(body: str, words_per_minute: int = 200) -> int:
    """Whole minutes a reader needs for the body, never less than one."""
    return max(1, math.ceil(len(plain_text(body).split()) / words_per_minute))
