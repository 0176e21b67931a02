"""The links between the pages of a list, read and followed as a browser does."""

import re
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
from fastapi.testclient import TestClient


def page_links(html: str) -> dict[str, str]:
    """The href of each previous/next link of the page, keyed by its rel."""
    links = {}
    for tag in re.findall(r"<a\b[^>]*>", html):
        rel = re.search(r'rel="(prev|next)"', tag)
        if rel:
            links[rel.group(1)] = unescape(re.search(r'href="([^"]*)"', tag).group(1))
    return links


def link_queries(html: str) -> dict[str, dict[str, list[str]]]:
    """The query of each previous/next link, keyed by its rel."""
    return {rel: parse_qs(urlsplit(href).query) for rel, href in page_links(html).items()}


def follow(client: TestClient, path: str, html: str, rel: str) -> httpx2.Response:
    """Open the page a link of the page at `path` points to: rel is "prev" or "next"."""
    return client.get(urljoin(path, page_links(html)[rel]))


def page_number(html: str) -> int:
    match = re.search(r'<span class="page-number">Page (\d+)</span>', html)
    assert match, "the page shows no page number"
    return int(match.group(1))
