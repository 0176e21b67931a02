"""Full-text search over published blogs, on SQLite's FTS5 and PostgreSQL's tsvector alike."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from blog import search
from blog.models import utc_now
from tests.conftest import DEFAULT_PASSWORD, assert_html_page, blog_ids_on, log_in, submit_form

MOMENT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _found(client, query: str) -> list[int]:
    response = client.get("/search", params={"q": query})
    assert_html_page(response, 200)
    return blog_ids_on(response.text)


def _results(html: str) -> list[tuple[str, str]]:
    """Each result's title and snippet, as the page's HTML."""
    return re.findall(
        r'<h3 class="blog-card-title"><a href="[^"]*">(.*?)</a></h3>.*?'
        r'<p class="snippet">(.*?)</p>',
        html,
        re.S,
    )


def _page_links(html: str) -> dict[str, dict[str, list[str]]]:
    """The query of each previous/next link, keyed by its rel."""
    links = {}
    for tag in re.findall(r"<a\b[^>]*>", html):
        rel = re.search(r'rel="(prev|next)"', tag)
        if rel:
            href = unescape(re.search(r'href="([^"]*)"', tag).group(1))
            links[rel.group(1)] = parse_qs(urlsplit(href).query)
    return links


# What is found


def test_a_word_in_a_title_is_found(client, make_blog):
    blog = make_blog(title="Pruning apple trees", body="Some words.")
    make_blog(title="Something else", body="Other words.")

    assert _found(client, "apple") == [blog.id]


def test_a_word_in_a_body_is_found(client, make_blog):
    blog = make_blog(title="Orchard notes", body="The apple harvest was early.")
    make_blog(title="Something else", body="Other words.")

    assert _found(client, "harvest") == [blog.id]


def test_every_word_of_the_query_must_match(client, make_blog):
    both = make_blog(title="Apple pie", body="With cinnamon.")
    make_blog(title="Apple juice", body="Fresh.")

    assert _found(client, "apple cinnamon") == [both.id]


def test_case_does_not_matter(client, make_blog):
    blog = make_blog(title="Pruning Apple Trees")

    assert _found(client, "APPLE") == [blog.id]


@pytest.mark.parametrize(("written", "query"), [("garden", "gardening"), ("gardening", "garden")])
def test_words_are_found_by_their_stem(client, make_blog, written, query):
    blog = make_blog(title="Weekend notes", body=f"All about {written} today.")

    assert _found(client, query) == [blog.id]


def test_a_title_match_ranks_above_a_body_only_match(client, make_user, make_blog):
    author = make_user()
    in_title = make_blog(author=author, title="Compost", body="Notes from the allotment.")
    # Newer and with a higher id, so only the ranking puts it second.
    in_body = make_blog(author=author, title="Allotment notes", body="Notes on compost.")

    assert _found(client, "compost") == [in_title.id, in_body.id]


def test_a_blog_with_no_matching_word_is_not_found(client, make_blog):
    make_blog(title="Pruning apple trees", body="Some words.")

    response = client.get("/search?q=banana")

    assert_html_page(response, 200)
    assert blog_ids_on(response.text) == []
    assert "No published blog matches" in response.text


def test_a_non_ascii_word_is_found(client, make_blog):
    blog = make_blog(title="Café culture", body="Über alles.")

    assert _found(client, "café") == [blog.id]


# How results look


def test_matching_words_are_marked_in_titles_and_snippets(client, make_blog):
    make_blog(title="Growing tomatoes", body="Tomatoes like sun and water.")

    ((title, snippet),) = _results(client.get("/search?q=tomatoes").text)

    assert title == "Growing <mark>tomatoes</mark>"
    assert "<mark>Tomatoes</mark> like sun" in snippet


def test_words_that_do_not_match_are_not_marked(client, make_blog):
    make_blog(title="Growing tomatoes", body="Tomatoes like sun and water.")

    ((title, snippet),) = _results(client.get("/search?q=tomatoes").text)

    assert re.findall(r"<mark>(.*?)</mark>", title + snippet) == ["tomatoes", "Tomatoes"]


def test_snippets_leave_out_markdown_marks_and_keep_the_words(client, make_blog):
    make_blog(
        title="Tomato notes",
        body="# Sowing tomatoes\n\nSow **tomatoes** in _a_ __warm__ spot, ~~cold~~ `never`, "
        "see [the guide](https://example.com/guide) and ![a photo](/photo.png). 2 * 3 = 6.",
    )

    ((_title, snippet),) = _results(client.get("/search?q=tomatoes").text)

    # Where the snippet starts is the database's choice (PostgreSQL leaves the heading out).
    text = re.sub(r"</?mark>", "", snippet)
    assert "Sow tomatoes in _a_ warm spot, cold never" in text
    assert "see the guide and a photo. 2 * 3 = 6." in text
    assert not re.search(r"#|\*\*|__|~~|`|\[|\]|\(https", text)


def test_html_in_titles_and_bodies_is_shown_as_text_with_only_marks_added(client, make_blog):
    make_blog(
        title='<script>alert("t")</script> tomatoes & <b>more</b>',
        body='Tomatoes <img src=x onerror="alert(1)"> and <script>alert("b")</script> more.',
    )

    html = client.get("/search?q=tomatoes").text

    assert "<script" not in html and "<img" not in html and "<b>" not in html
    ((title, snippet),) = _results(html)
    assert set(re.findall(r"</?[a-zA-Z][^>]*>", title + snippet)) == {"<mark>", "</mark>"}
    assert "&lt;script&gt;" in title


def test_results_show_each_blog_with_its_author_and_reading_time(client, make_user, make_blog):
    author = make_user(name="Gardener Gail")
    make_blog(author=author, title="Tomatoes")

    html = client.get("/search?q=tomatoes").text

    assert "Gardener Gail" in html and "1 min read" in html


def test_the_query_stays_in_the_search_field(client, make_blog):
    html = client.get("/search", params={"q": 'tomatoes "<b>'}).text

    assert 'value="tomatoes &#34;&lt;b&gt;"' in html or 'value="tomatoes &quot;&lt;b&gt;"' in html


# Kept in step with every write


def test_a_blog_written_through_the_form_is_found(client, logged_in):
    location = submit_form(
        client, "/blogs/new", {"title": "Fresh radishes", "body": "Crunchy and red."}
    ).headers["location"]
    blog_id = int(location.split("/")[2])

    assert _found(client, "radishes") == [blog_id]
    assert _found(client, "crunchy") == [blog_id]


def test_after_an_edit_the_old_words_are_not_found_and_the_new_ones_are(
    client, logged_in, make_blog
):
    blog = make_blog(author=logged_in, title="Fresh radishes", body="Crunchy and red.")

    submit_form(
        client, f"/blogs/{blog.id}/edit", {"title": "Ripe melons", "body": "Sweet and juicy."}
    )

    assert _found(client, "radishes") == []
    assert _found(client, "crunchy") == []
    assert _found(client, "melons") == [blog.id]
    assert _found(client, "juicy") == [blog.id]


def test_an_edit_of_the_body_alone_is_found_by_its_new_words(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, title="Radishes", body="Crunchy and red.")

    submit_form(client, f"/blogs/{blog.id}/edit", {"title": "Radishes", "body": "Peppery."})

    assert _found(client, "crunchy") == []
    assert _found(client, "peppery") == [blog.id]


def test_a_deleted_blog_is_not_found(client, logged_in, make_blog):
    blog = make_blog(author=logged_in, title="Fresh radishes")
    kept = make_blog(title="More radishes")

    submit_form(client, f"/blogs/{blog.id}/delete")

    assert _found(client, "radishes") == [kept.id]


def test_blogs_of_a_deleted_author_are_not_found(client, make_user, make_blog):
    author = make_user()
    make_blog(author=author, title="Fresh radishes")
    make_blog(author=author, title="Radishes again")
    kept = make_blog(title="More radishes")
    log_in(client, author)

    submit_form(client, f"/users/{author.id}/delete", {"password": DEFAULT_PASSWORD})

    assert _found(client, "radishes") == [kept.id]


@pytest.mark.parametrize("hidden", ["draft", "scheduled"])
def test_unpublished_blogs_are_never_found(client, make_user, make_blog, hidden):
    author = make_user()
    published = make_blog(author=author, title="Fresh radishes")
    if hidden == "draft":
        make_blog(author=author, title="Secret radishes", draft=True)
    else:
        make_blog(
            author=author, title="Secret radishes", published_at=utc_now() + timedelta(days=1)
        )
    log_in(client, author)

    assert _found(client, "radishes") == [published.id]
    assert _found(client, "secret") == []


def test_a_blog_written_as_a_draft_and_then_published_is_found(client, logged_in):
    location = submit_form(
        client, "/blogs/new", {"title": "Radishes", "body": "Words.", "status": "draft"}
    ).headers["location"]
    blog_id = int(location.split("/")[2])
    assert _found(client, "radishes") == []

    submit_form(
        client,
        f"/blogs/{blog_id}/edit",
        {"title": "Radishes", "body": "Words.", "status": "published"},
    )

    assert _found(client, "radishes") == [blog_id]


# Whatever is typed


ODD_QUERIES = [
    '"',
    '""',
    "'",
    "*",
    "AND (",
    "OR",
    "NOT",
    "-",
    "NEAR(",
    "NEAR(tomatoes",
    "title:tomatoes",
    "^tomatoes",
    "tomatoes:*",
    "tomatoes & | ! <->",
    "(tomatoes",
    "tomatoes)",
    "{tomatoes}",
    "\\",
    "%",
    "_",
    ";DROP TABLE blog;--",
    "\u00a0",
    "😀",
    "the",
    "a",
    "",
    "   ",
    "t" * 10_000,
    "tomatoes " * 2_000,
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=lambda query: repr(query[:20]))
def test_no_query_breaks_the_search_page(client, make_blog, query):
    make_blog(title="Growing tomatoes", body="Tomatoes like sun.")

    response = client.get("/search", params={"q": query})

    assert_html_page(response, 200)


@pytest.mark.parametrize(
    "query", ['"tomatoes"', "tomatoes*", "-tomatoes", "(tomatoes)", "tomatoes'", "tomatoes?"]
)
def test_search_syntax_around_a_word_finds_the_word(client, make_blog, query):
    blog = make_blog(title="Growing tomatoes", body="Tomatoes like sun.")

    assert _found(client, query) == [blog.id]


def test_an_empty_query_shows_the_search_form_and_no_results(client, make_blog):
    make_blog(title="Growing tomatoes")

    response = client.get("/search?q=")

    assert_html_page(response, 200)
    assert 'id="search-page-query"' in response.text
    assert blog_ids_on(response.text) == []


def test_the_search_page_without_a_query_is_a_page(client):
    assert_html_page(client.get("/search"), 200)


# Pages of results


def _matching_blogs(make_user, make_blog, count: int) -> list[int]:
    author = make_user()
    return [
        make_blog(
            author=author,
            title=f"Tomatoes {number}",
            body="Red tomatoes.",
            created_at=MOMENT + timedelta(hours=number),
        ).id
        for number in range(count)
    ]


def test_results_come_twenty_a_page_and_page_two_holds_the_rest(client, make_user, make_blog):
    ids = _matching_blogs(make_user, make_blog, 21)

    first = client.get("/search?q=red+tomatoes")
    second = client.get("/search?q=red+tomatoes&page=2")

    assert_html_page(second, 200)
    shown = blog_ids_on(first.text) + blog_ids_on(second.text)
    assert (len(blog_ids_on(first.text)), len(blog_ids_on(second.text))) == (20, 1)
    assert sorted(shown) == sorted(ids)


def test_links_between_pages_of_results_keep_the_query(client, make_user, make_blog):
    _matching_blogs(make_user, make_blog, 21)

    first = client.get("/search?q=red+tomatoes").text
    second = client.get("/search?q=red+tomatoes&page=2").text

    assert _page_links(first) == {"next": {"q": ["red tomatoes"], "page": ["2"]}}
    assert _page_links(second) == {"prev": {"q": ["red tomatoes"], "page": ["1"]}}


def test_a_page_of_results_past_the_end_is_a_404(client, make_user, make_blog):
    _matching_blogs(make_user, make_blog, 21)

    assert_html_page(client.get("/search?q=tomatoes&page=3"), 404)


def test_a_second_page_of_no_results_is_a_404(client, make_blog):
    make_blog(title="Growing tomatoes")

    assert_html_page(client.get("/search?q=banana&page=2"), 404)


@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999999"])
def test_a_malformed_page_number_is_a_404(client, page):
    assert_html_page(client.get(f"/search?q=tomatoes&page={page}"), 404)


# Ranking only the newest matches


@pytest.fixture
def three_candidates(monkeypatch):
    """Rank only the three newest matches, as a large site ranks only its newest thousand."""
    monkeypatch.setattr(search, "MAX_CANDIDATES", 3)


def _tomatoes(make_user, make_blog, titles: list[str]) -> list[int]:
    """Blogs an hour apart in this order (so with rising ids), each with "tomatoes" in it."""
    author = make_user()
    return [
        make_blog(
            author=author,
            title=title,
            body="Notes on red tomatoes.",
            created_at=MOMENT + timedelta(hours=hour),
        ).id
        for hour, title in enumerate(titles)
    ]


def test_the_best_of_the_newest_matches_comes_first(client, make_user, make_blog, three_candidates):
    old, best, *_ = _tomatoes(
        make_user, make_blog, ["Old notes", "Tomatoes", "Shade", "Sun", "Rain"]
    )

    found = _found(client, "tomatoes")

    assert len(found) == 3
    assert best not in found and old not in found
    assert set(found) == set(_found(client, "red tomatoes"))


def test_the_best_match_among_the_newest_is_ranked_first(
    client, make_user, make_blog, three_candidates
):
    ids = _tomatoes(make_user, make_blog, ["Shade", "Sun", "Tomatoes", "Rain"])

    assert _found(client, "tomatoes")[0] == ids[2]


def test_a_page_says_when_more_blogs_match_than_are_ranked(
    client, make_user, make_blog, three_candidates
):
    _tomatoes(make_user, make_blog, ["One", "Two", "Three", "Four"])

    assert "best matches among the newest" in client.get("/search?q=tomatoes").text
    assert "best matches among the newest" not in client.get("/search?q=four").text


def test_pages_past_the_ranked_matches_are_a_404(client, make_user, make_blog, monkeypatch):
    monkeypatch.setattr(search, "MAX_CANDIDATES", 20)
    _matching_blogs(make_user, make_blog, 30)

    first = client.get("/search?q=tomatoes").text

    assert len(blog_ids_on(first)) == 20
    assert _page_links(first) == {}
    assert_html_page(client.get("/search?q=tomatoes&page=2"), 404)


@pytest.fixture
def common_words(database_url, monkeypatch):
    """Every word counts as common: SQLite ranks by titles and time, not bm25."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL ranks with ts_rank, which reads no counts across the index")
    monkeypatch.setattr(search, "BM25_MAX_BLOGS", 0)


def test_common_words_rank_blogs_with_more_of_them_in_the_title_first_then_the_newest(
    client, make_user, make_blog, common_words
):
    body_only, both_words, one_word, newest_body_only = _tomatoes(
        make_user, make_blog, ["Garden notes", "Red tomatoes", "Tomatoes", "More notes"]
    )

    found = _found(client, "red tomatoes")

    assert found == [both_words, one_word, newest_body_only, body_only]


def test_common_words_are_still_stemmed_and_marked(client, make_blog, common_words):
    make_blog(title="Gardening", body="A garden of gardens.")

    ((title, snippet),) = _results(client.get("/search?q=garden").text)

    assert title == "<mark>Gardening</mark>"
    assert re.findall(r"<mark>(.*?)</mark>", snippet) == ["garden", "gardens"]


@pytest.mark.parametrize("query", ['"', "a OR b", "NEAR(x y)", "title:x", "*", "^x", "{title}:x"])
def test_common_words_with_query_syntax_are_only_words(client, make_blog, common_words, query):
    make_blog(title="Plain", body="Nothing to see.")

    assert_html_page(client.get("/search", params={"q": query}), 200)
