"""Atom feeds, the sitemap and robots.txt: valid, absolute, and only ever published blogs."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import feedparser
import pytest
from sqlmodel import Session

from blog.models import Blog, BlogPublic
from blog.routes import feeds
from tests.conftest import assert_html_page

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "http://testserver"


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def parse_xml(content: bytes) -> ET.Element:
    # Our own responses, not untrusted input.
    return ET.fromstring(content)  # noqa: S314


def atom(response) -> ET.Element:
    """The feed, after checking it is well-formed, valid Atom 1.0 with RFC 4287's elements."""
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"

    feed = parse_xml(response.content)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert (feed.findtext(f"{ATOM}{name}") or "").strip(), f"feed has no {name}"
    self_links = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert [link.get("href") for link in self_links] == [str(response.url)]
    entries = feed.findall(f"{ATOM}entry")
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert (entry.findtext(f"{ATOM}{name}") or "").strip(), f"entry has no {name}"
    if entries and feed.find(f"{ATOM}author") is None:
        for entry in entries:
            assert entry.findtext(f"{ATOM}author/{ATOM}name"), "entry has no author"
    return feed


def entry_ids(feed: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}id") for entry in feed.findall(f"{ATOM}entry")]


def entry_id(blog: Blog) -> str:
    return f"{BASE}/blogs/{blog.id}"


def only_entry(feed: ET.Element) -> ET.Element:
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    return entries[0]


def sitemap_locs(response) -> list[str]:
    """The addresses of one sitemap: a valid urlset of one to 50,000 of them."""
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"].startswith("application/xml")
    urlset = parse_xml(response.content)
    assert urlset.tag == f"{SITEMAP}urlset"
    locs = [url.findtext(f"{SITEMAP}loc") for url in urlset.findall(f"{SITEMAP}url")]
    assert 1 <= len(locs) <= 50_000
    return locs


def sitemap_parts(client) -> list[str]:
    """The sitemaps /sitemap.xml names: a valid sitemap index of absolute addresses."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"].startswith("application/xml")
    index = parse_xml(response.content)
    assert index.tag == f"{SITEMAP}sitemapindex"
    parts = [item.findtext(f"{SITEMAP}loc") for item in index.findall(f"{SITEMAP}sitemap")]
    assert all(part.startswith(f"{BASE}/sitemaps/") for part in parts)
    return parts


def all_sitemap_locs(client) -> list[str]:
    """Every address in every sitemap the index names, in its order."""
    return [
        loc
        for part in sitemap_parts(client)
        for loc in sitemap_locs(client.get(part.removeprefix(BASE)))
    ]


def blog_url(blog: Blog, session: Session) -> str:
    session.refresh(blog)
    return BASE + BlogPublic.model_validate(blog).path


class _FeedLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        found = dict(attrs)
        is_feed = found.get("rel") == "alternate" and found.get("type") == "application/atom+xml"
        if tag == "link" and is_feed:
            self.hrefs.append(found.get("href") or "")


def feed_links(html: str) -> list[str]:
    """The hrefs of the page's <link rel="alternate" type="application/atom+xml">."""
    parser = _FeedLinks()
    parser.feed(html)
    return parser.hrefs


# Valid Atom


@pytest.mark.parametrize("kind", ["site", "author", "tag"])
def test_each_feed_is_valid_atom(client, make_user, make_blog, kind):
    author = make_user()
    make_blog(author, tags=["python"], created_at=days_ago(2))
    make_blog(author, tags=["python", "web"], created_at=days_ago(1))
    url = {"site": "/feed.xml", "author": f"/users/{author.id}/feed.xml"}.get(
        kind, "/tags/python/feed.xml"
    )

    feed = atom(client.get(url))

    assert len(entry_ids(feed)) == 2


def test_site_feed_is_valid_atom_with_no_blogs(client):
    feed = atom(client.get("/feed.xml"))

    assert entry_ids(feed) == []
    assert feed.findtext(f"{ATOM}updated")


def test_feed_names_its_page_and_itself_with_absolute_urls(client, make_user, make_blog):
    author = make_user(name="Ada")
    make_blog(author)

    feed = atom(client.get(f"/users/{author.id}/feed.xml"))

    links = {link.get("rel"): link for link in feed.findall(f"{ATOM}link")}
    assert feed.findtext(f"{ATOM}id") == f"{BASE}/users/{author.id}"
    assert links["alternate"].get("href") == f"{BASE}/users/{author.id}"
    assert links["alternate"].get("type") == "text/html"
    assert links["self"].get("href") == f"{BASE}/users/{author.id}/feed.xml"
    assert feed.findtext(f"{ATOM}title") == "Blogs by Ada · Blog"
    assert feed.findtext(f"{ATOM}generator")


def test_feed_urls_follow_the_host_the_request_came_to(client, make_blog):
    make_blog()

    feed = atom(client.get("http://blog.example.org/feed.xml"))

    self_link = next(link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self")
    assert self_link.get("href") == "http://blog.example.org/feed.xml"
    assert entry_ids(feed)[0].startswith("http://blog.example.org/blogs/")


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/feed.xml", "Latest blogs · Blog"),
        ("/tags/python/feed.xml", "Blogs tagged #python · Blog"),
    ],
)
def test_feed_titles_say_what_they_hold(client, make_blog, url, title):
    make_blog(tags=["python"])

    assert atom(client.get(url)).findtext(f"{ATOM}title") == title


def test_feed_updated_is_the_latest_entry_update(client, make_blog):
    make_blog(created_at=days_ago(3))
    make_blog(created_at=days_ago(1))

    feed = atom(client.get("/feed.xml"))

    entry_times = [entry.findtext(f"{ATOM}updated") for entry in feed.findall(f"{ATOM}entry")]
    assert feed.findtext(f"{ATOM}updated") == max(entry_times)


# Which blogs, in which order


def test_feed_lists_published_blogs_newest_first(client, make_user, make_blog):
    author = make_user()
    middle = make_blog(author, created_at=days_ago(2))
    newest = make_blog(author, created_at=days_ago(1))
    oldest = make_blog(author, created_at=days_ago(3))

    feed = atom(client.get("/feed.xml"))

    assert entry_ids(feed) == [entry_id(newest), entry_id(middle), entry_id(oldest)]


def test_feed_holds_the_twenty_newest_blogs(client, make_user, make_blog):
    author = make_user()
    blogs = [make_blog(author, created_at=days_ago(30 - day)) for day in range(25)]

    feed = atom(client.get("/feed.xml"))

    assert entry_ids(feed) == [entry_id(blog) for blog in reversed(blogs[-20:])]


@pytest.mark.parametrize("kind", ["site", "author", "tag"])
def test_drafts_and_scheduled_blogs_never_appear_in_a_feed(client, make_user, make_blog, kind):
    author = make_user()
    published = make_blog(author, tags=["python"])
    make_blog(author, draft=True, tags=["python"])
    make_blog(author, published_at=datetime.now(UTC) + timedelta(days=1), tags=["python"])
    url = {"site": "/feed.xml", "author": f"/users/{author.id}/feed.xml"}.get(
        kind, "/tags/python/feed.xml"
    )

    assert entry_ids(atom(client.get(url))) == [entry_id(published)]


def test_scheduled_blog_appears_once_its_time_has_passed(client, make_blog):
    scheduled = make_blog(created_at=days_ago(2), published_at=days_ago(1))

    assert entry_ids(atom(client.get("/feed.xml"))) == [entry_id(scheduled)]


def test_author_feed_holds_only_that_authors_blogs(client, make_user, make_blog):
    author, other = make_user(), make_user()
    own = make_blog(author)
    make_blog(other)

    assert entry_ids(atom(client.get(f"/users/{author.id}/feed.xml"))) == [entry_id(own)]


def test_author_feed_of_an_author_without_blogs_is_empty(client, make_user):
    author = make_user()

    assert entry_ids(atom(client.get(f"/users/{author.id}/feed.xml"))) == []


def test_tag_feed_holds_only_that_tags_blogs(client, make_blog):
    tagged = make_blog(tags=["python"])
    make_blog(tags=["rust"])
    make_blog()

    assert entry_ids(atom(client.get("/tags/python/feed.xml"))) == [entry_id(tagged)]


def test_feed_of_an_unknown_author_is_the_html_404_page(client):
    assert_html_page(client.get("/users/999/feed.xml"), 404)


def test_feed_of_an_unknown_tag_is_404(client, make_blog):
    make_blog(tags=["python"])

    assert_html_page(client.get("/tags/nothing/feed.xml"), 404)


def test_feed_of_a_tag_only_drafts_carry_is_404(client, make_blog):
    make_blog(draft=True, tags=["secret"])

    assert_html_page(client.get("/tags/secret/feed.xml"), 404)


def test_tag_feed_redirects_to_the_normalized_tag(client, make_blog):
    make_blog(tags=["python"])

    response = client.get("/tags/Python/feed.xml")

    assert response.status_code == 301
    assert response.headers["location"] == "/tags/python/feed.xml"


def test_tag_feed_of_a_tag_with_url_characters(client, make_blog):
    tagged = make_blog(tags=["c#"])

    feed = atom(client.get("/tags/c%23/feed.xml"))

    assert entry_ids(feed) == [entry_id(tagged)]
    assert feed.findtext(f"{ATOM}id") == f"{BASE}/tags/c%23"


# What an entry holds


def test_entry_describes_its_blog(client, session, make_user, make_blog):
    author = make_user(name="Ada")
    blog = make_blog(author, title="Hello world", body="First *words*.", tags=["python", "web"])

    entry = only_entry(atom(client.get("/feed.xml")))

    assert entry.findtext(f"{ATOM}title") == "Hello world"
    link = entry.find(f"{ATOM}link")
    assert link.get("rel") == "alternate"
    assert link.get("href") == f"{BASE}/blogs/{blog.id}/hello-world"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Ada"
    assert entry.findtext(f"{ATOM}author/{ATOM}uri") == f"{BASE}/users/{author.id}"
    terms = [category.get("term") for category in entry.findall(f"{ATOM}category")]
    assert terms == ["python", "web"]
    assert entry.findtext(f"{ATOM}summary") == "First words."
    assert entry.findtext(f"{ATOM}published")


def test_entry_times_are_rfc3339_utc(client, make_blog):
    published_at = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    make_blog(created_at=published_at - timedelta(hours=1), published_at=published_at)

    entry = only_entry(atom(client.get("/feed.xml")))

    assert entry.findtext(f"{ATOM}published") == "2024-05-06T07:08:09Z"
    # Written before it came out: new to readers when published.
    assert entry.findtext(f"{ATOM}updated") == "2024-05-06T07:08:09Z"


def test_entry_id_stays_when_the_title_changes(client, session, make_blog):
    blog = make_blog(title="First title")
    before = only_entry(atom(client.get("/feed.xml")))
    blog.title = "Second title"
    session.add(blog)
    session.commit()

    after = only_entry(atom(client.get("/feed.xml")))

    assert after.findtext(f"{ATOM}id") == before.findtext(f"{ATOM}id") == entry_id(blog)
    assert after.find(f"{ATOM}link").get("href") == f"{BASE}/blogs/{blog.id}/second-title"


@pytest.mark.parametrize(
    "body", ["<script>alert(1)</script>\n\n**bold**", "**bold** <script>alert(1)</script>"]
)
def test_entry_content_is_the_sanitized_html(client, make_blog, body):
    make_blog(body=body)

    content = only_entry(atom(client.get("/feed.xml"))).find(f"{ATOM}content")

    assert content.get("type") == "html"
    # The HTML travels escaped as text: the element's text is the HTML itself.
    assert "<strong>bold</strong>" in content.text
    assert "<script" not in content.text
    assert "alert" not in content.text


def test_titles_with_markup_characters_stay_well_formed(client, make_user, make_blog):
    author = make_user(name="Tom & <Jerry>")
    make_blog(author, title="Fish & <chips> > peas", tags=["c++"])

    feed = atom(client.get(f"/users/{author.id}/feed.xml"))

    entry = only_entry(feed)
    assert entry.findtext(f"{ATOM}title") == "Fish & <chips> > peas"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Tom & <Jerry>"
    assert feed.findtext(f"{ATOM}title") == "Blogs by Tom & <Jerry> · Blog"


def test_characters_xml_cannot_hold_are_left_out(client, make_blog):
    make_blog(title="Bell\x07 and escape\x1b", body="Vertical\x0btab")

    entry = only_entry(atom(client.get("/feed.xml")))

    assert entry.findtext(f"{ATOM}title") == "Bell and escape"


# Pages link their feeds


def test_home_page_links_the_site_feed(client):
    assert "/feed.xml" in feed_links(client.get("/").text)


def test_author_page_links_the_author_feed(client, make_user, make_blog):
    author = make_user()
    make_blog(author)

    assert f"/users/{author.id}/feed.xml" in feed_links(client.get(f"/users/{author.id}").text)


def test_tag_page_links_the_tag_feed(client, make_blog):
    make_blog(tags=["python"])

    assert "/tags/python/feed.xml" in feed_links(client.get("/tags/python").text)


# Sitemap and robots.txt


def test_sitemap_lists_published_blogs_with_absolute_slug_urls(client, session, make_blog):
    blog = make_blog(title="Hello world")

    locs = all_sitemap_locs(client)

    assert f"{BASE}/blogs/{blog.id}/hello-world" in locs
    assert blog_url(blog, session) in locs


def test_sitemap_leaves_out_drafts_and_scheduled_blogs(client, session, make_user, make_blog):
    author = make_user()
    draft = make_blog(author, draft=True)
    scheduled = make_blog(author, published_at=datetime.now(UTC) + timedelta(days=1))

    locs = all_sitemap_locs(client)

    assert blog_url(draft, session) not in locs
    assert blog_url(scheduled, session) not in locs
    assert not any(f"/blogs/{blog.id}/" in loc for blog in (draft, scheduled) for loc in locs)


def test_sitemap_lists_site_author_and_tag_pages(client, make_user, make_blog):
    author, drafter = make_user(), make_user()
    make_blog(author, tags=["c#"])
    make_blog(drafter, draft=True, tags=["secret"])

    locs = all_sitemap_locs(client)

    assert locs[:3] == [f"{BASE}/", f"{BASE}/users", f"{BASE}/tags"]
    assert f"{BASE}/users/{author.id}" in locs
    assert f"{BASE}/tags/c%23" in locs
    assert f"{BASE}/users/{drafter.id}" not in locs
    assert f"{BASE}/tags/secret" not in locs


def test_sitemap_leaves_out_an_author_whose_blogs_are_all_scheduled(client, make_user, make_blog):
    author = make_user()
    make_blog(author, published_at=datetime.now(UTC) + timedelta(days=1))

    assert f"{BASE}/users/{author.id}" not in all_sitemap_locs(client)


def test_sitemap_gives_blogs_a_lastmod_date(client, make_blog):
    blog = make_blog(created_at=datetime(2024, 5, 6, 23, 0, tzinfo=UTC))

    urlset = parse_xml(client.get("/sitemaps/blogs-1.xml").content)

    (url,) = urlset.findall(f"{SITEMAP}url")
    assert url.findtext(f"{SITEMAP}loc").startswith(f"{BASE}/blogs/{blog.id}/")
    assert url.findtext(f"{SITEMAP}lastmod") == "2024-05-06"


def test_sitemap_is_valid_with_no_blogs(client):
    assert sitemap_parts(client) == [f"{BASE}/sitemaps/pages.xml"]
    assert all_sitemap_locs(client) == [f"{BASE}/", f"{BASE}/users", f"{BASE}/tags"]


def test_sitemap_parts_hold_ranges_of_ids_and_only_parts_with_published_blogs_are_named(
    client, make_user, make_blog, monkeypatch
):
    monkeypatch.setattr(feeds, "SITEMAP_PART_SIZE", 2)
    author = make_user()
    blogs = [make_blog(author, draft=number in (2, 3)) for number in range(6)]
    published = {blog.id for blog in blogs if blog.published_at is not None}

    parts = sitemap_parts(client)

    blog_parts = [part for part in parts if "/blogs-" in part]
    expected_numbers = sorted({(blog_id - 1) // 2 + 1 for blog_id in published})
    assert blog_parts == [f"{BASE}/sitemaps/blogs-{number}.xml" for number in expected_numbers]
    listed = set()
    for part in blog_parts:
        locs = sitemap_locs(client.get(part.removeprefix(BASE)))
        assert len(locs) <= 2
        listed |= {int(loc.split("/")[4]) for loc in locs}
    assert listed == published


def test_sitemap_parts_hold_no_more_addresses_than_the_protocol_allows():
    assert feeds.SITEMAP_PART_SIZE <= feeds.SITEMAP_MAX_URLS == 50_000


@pytest.mark.parametrize(
    "path",
    [
        "/sitemaps/blogs-2.xml",
        "/sitemaps/blogs-0.xml",
        "/sitemaps/blogs-x.xml",
        "/sitemaps/blogs-99999999999999999999.xml",
        "/sitemaps/authors-2.xml",
        "/sitemaps/other.xml",
    ],
)
def test_a_sitemap_part_with_nothing_in_it_is_a_404(client, make_blog, path):
    make_blog()

    assert_html_page(client.get(path), 404)


def test_robots_txt_names_the_sitemap_and_disallows_login(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /login" in lines
    assert f"Sitemap: {BASE}/sitemap.xml" in lines


def test_robots_txt_does_not_block_blogs_whose_slug_starts_with_edit(client):
    rules = [
        line.removeprefix("Disallow: ")
        for line in client.get("/robots.txt").text.splitlines()
        if line.startswith("Disallow:")
    ]

    assert "/blogs/*/edit$" in rules
    assert "/blogs/*/edit" not in rules


# Conditional GET


def test_feed_sends_an_etag_and_answers_if_none_match_with_304(client, make_blog):
    make_blog()
    first = client.get("/feed.xml")
    etag = first.headers["etag"]

    again = client.get("/feed.xml", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
