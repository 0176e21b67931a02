"""What assistive technology relies on: landmarks, labels, announced errors, focus and themes."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from tests.conftest import assert_html_page, field_error, submit_form

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
UNLABELLED_INPUT_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    ancestors: list["Element"]
    text: list[str] = field(default_factory=list)

    @property
    def inner_text(self) -> str:
        return " ".join("".join(self.text).split())


class Page(HTMLParser):
    """Every element of a page with its attributes, ancestors and text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs}, list(self._open))
        self.elements.append(element)
        if tag not in VOID_ELEMENTS:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self._open.pop()

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data):
        for element in self._open:
            element.text.append(data)

    def all(self, tag: str) -> list[Element]:
        return [element for element in self.elements if element.tag == tag]

    def by_id(self, element_id: str) -> Element | None:
        found = [element for element in self.elements if element.attrs.get("id") == element_id]
        assert len(found) <= 1, f"id {element_id!r} is used {len(found)} times"
        return found[0] if found else None

    def fields(self) -> list[Element]:
        """The inputs, text areas and selects a person fills in."""
        return [
            element
            for element in self.elements
            if element.tag in ("textarea", "select")
            or (
                element.tag == "input"
                and element.attrs.get("type", "text") not in UNLABELLED_INPUT_TYPES
            )
        ]


def _has_label(page: Page, element: Element) -> bool:
    """Named by a <label for=its id>, or a radio/checkbox in a label in a legended fieldset."""
    element_id = element.attrs.get("id")
    if element_id and any(label.attrs.get("for") == element_id for label in page.all("label")):
        return True
    if element.attrs.get("type") in ("radio", "checkbox"):
        in_label = any(ancestor.tag == "label" for ancestor in element.ancestors)
        fieldsets = [ancestor for ancestor in element.ancestors if ancestor.tag == "fieldset"]
        return in_label and bool(fieldsets) and bool(_legend_of(page, fieldsets[-1]))
    return False


def _legend_of(page: Page, fieldset: Element) -> str:
    legends = [legend for legend in page.all("legend") if fieldset in legend.ancestors]
    return legends[0].inner_text if legends else ""


def _name(element: Element) -> str:
    return element.attrs.get("name") or element.attrs.get("id") or element.tag


# The pages, as a logged-in author with a published, tagged blog sees them; "{blog}" and
# "{user}" are filled in.
PAGES = [
    "/",
    "/users",
    "/users/{user}",
    "/tags",
    "/tags/roses",
    "/search",
    "/search?q=roses",
    "/blogs/{blog}/roses-in-june",
    "/blogs/new",
    "/blogs/{blog}/edit",
    "/blogs/{blog}/delete",
    "/users/{user}/edit",
    "/users/{user}/delete",
    "/account/sessions",
    "/account/password",
    "/no-such-page",
]
ANONYMOUS_PAGES = ["/login", "/register", "/", "/no-such-page"]


@pytest.fixture
def author_pages(client, logged_in, make_blog):
    """Fill in a page address for the logged-in author's blog."""
    blog = make_blog(author=logged_in, title="Roses in June", tags=["roses"])
    return lambda path: path.format(blog=blog.id, user=logged_in.id)


def _page(client, path: str) -> Page:
    response = client.get(path)
    assert_html_page(response, 404 if path == "/no-such-page" else 200)
    return Page(response.text)


def _assert_landmarks(page: Page) -> None:
    assert [html.attrs.get("lang") for html in page.all("html")] == ["en"]
    assert len(page.all("main")) == 1
    assert page.all("header")
    assert any(nav.attrs.get("aria-label", "").strip() for nav in page.all("nav"))
    assert all(nav.attrs.get("aria-label", "").strip() for nav in page.all("nav"))
    titles = page.all("title")
    assert len(titles) == 1 and titles[0].inner_text


def _assert_every_field_labelled(page: Page) -> None:
    unlabelled = [_name(element) for element in page.fields() if not _has_label(page, element)]
    assert unlabelled == []


def _assert_labels_point_at_fields(page: Page) -> None:
    for label in page.all("label"):
        if "for" in label.attrs:
            target = page.by_id(label.attrs["for"])
            assert target is not None, f"label for {label.attrs['for']!r} names nothing"
            assert target.tag in ("input", "textarea", "select")


# Every page


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_one_main_a_header_and_a_named_navigation(client, author_pages, path):
    _assert_landmarks(_page(client, author_pages(path)))


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_every_page_a_visitor_sees_has_its_landmarks(client, path):
    _assert_landmarks(_page(client, path))


@pytest.mark.parametrize("path", PAGES)
def test_every_field_on_every_page_has_a_label(client, author_pages, path):
    page = _page(client, author_pages(path))

    _assert_every_field_labelled(page)
    _assert_labels_point_at_fields(page)


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_every_field_a_visitor_sees_has_a_label(client, path):
    page = _page(client, path)

    _assert_every_field_labelled(page)
    _assert_labels_point_at_fields(page)


@pytest.mark.parametrize("path", PAGES)
def test_no_id_is_used_twice_on_a_page(client, author_pages, path):
    page = _page(client, author_pages(path))

    ids = [element.attrs["id"] for element in page.elements if "id" in element.attrs]
    assert len(ids) == len(set(ids))


def test_the_blog_form_has_its_radio_buttons_in_a_fieldset_with_a_legend(client, logged_in):
    page = _page(client, "/blogs/new")

    radios = [field for field in page.fields() if field.attrs.get("type") == "radio"]
    assert {radio.attrs["value"] for radio in radios} == {"published", "draft", "scheduled"}
    for radio in radios:
        (fieldset,) = [ancestor for ancestor in radio.ancestors if ancestor.tag == "fieldset"]
        assert _legend_of(page, fieldset)
        assert any(ancestor.tag == "label" for ancestor in radio.ancestors)


def test_the_page_body_can_be_skipped_to(client):
    page = _page(client, "/")

    skip_links = [link for link in page.all("a") if link.attrs.get("href") == "#main"]
    assert skip_links
    assert page.all("main")[0].attrs.get("id") == "main"


# A form with errors


def _invalid_field(page: Page, name: str) -> Element:
    (element,) = [field for field in page.fields() if field.attrs.get("name") == name]
    return element


def _invalid_field_radios(page: Page, name: str) -> list[Element]:
    return [field for field in page.fields() if field.attrs.get("name") == name]


def _assert_field_announces_its_error(page: Page, html: str, name: str) -> None:
    element = _invalid_field(page, name)
    assert element.attrs.get("aria-invalid") == "true"
    described_by = element.attrs.get("aria-describedby", "").split()
    texts = [page.by_id(described).inner_text for described in described_by]
    assert field_error(html, name) in texts


def test_an_invalid_field_is_marked_described_by_its_error_and_focused(client):
    response = submit_form(
        client,
        "/register",
        {"name": "Ann", "email": "not an email", "password": "correct horse battery"},
    )

    assert_html_page(response, 422)
    page = Page(response.text)
    _assert_field_announces_its_error(page, response.text, "email")
    assert "autofocus" in _invalid_field(page, "email").attrs


def test_only_the_first_invalid_field_takes_the_focus(client, logged_in):
    response = submit_form(client, "/blogs/new", {"title": "", "body": "", "tags": "a/b"})

    assert_html_page(response, 422)
    page = Page(response.text)
    for name in ("title", "body", "tags"):
        _assert_field_announces_its_error(page, response.text, name)
    focused = [element for element in page.elements if "autofocus" in element.attrs]
    assert [_name(element) for element in focused] == ["title"]


def test_a_valid_field_beside_an_invalid_one_is_not_marked(client, logged_in):
    response = submit_form(client, "/blogs/new", {"title": "Fine", "body": ""})

    page = Page(response.text)
    assert "aria-invalid" not in _invalid_field(page, "title").attrs
    assert "autofocus" not in _invalid_field(page, "title").attrs
    assert "autofocus" in _invalid_field(page, "body").attrs


def test_a_field_keeps_its_hint_when_it_also_has_an_error(client, logged_in):
    response = submit_form(client, "/blogs/new", {"title": "T", "body": "B.", "tags": "a/b"})

    page = Page(response.text)
    described_by = _invalid_field(page, "tags").attrs["aria-describedby"].split()
    assert described_by == ["hint-tags", "error-tags"]
    assert "Up to 10" in page.by_id("hint-tags").inner_text


def test_an_invalid_choice_names_its_error_on_the_group_and_focuses_it(client, logged_in):
    response = submit_form(client, "/blogs/new", {"title": "T", "body": "B.", "status": "secret"})

    assert_html_page(response, 422)
    page = Page(response.text)
    first_radio = _invalid_field_radios(page, "status")[0]
    (fieldset,) = [ancestor for ancestor in first_radio.ancestors if ancestor.tag == "fieldset"]
    described = page.by_id(fieldset.attrs["aria-describedby"])
    assert described.inner_text == field_error(response.text, "status")
    focused = [element for element in page.elements if "autofocus" in element.attrs]
    assert [(element.attrs.get("name"), element.attrs.get("type")) for element in focused] == [
        ("status", "radio")
    ]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/register", {"name": "", "email": "", "password": ""}),
        ("/login", {"email": "nobody@example.com", "password": "wrong password"}),
    ],
)
def test_the_error_summary_is_announced(client, path, data):
    response = submit_form(client, path, data)

    page = Page(response.text)
    summaries = [
        element for element in page.all("p") if "form-error" in element.attrs.get("class", "")
    ]
    assert len(summaries) == 1
    assert summaries[0].attrs.get("role") == "alert"
    assert summaries[0].inner_text


def test_the_blog_form_error_summary_is_announced(client, logged_in):
    response = submit_form(client, "/blogs/new", {"title": "", "body": ""})

    page = Page(response.text)
    (summary,) = [element for element in page.all("p") if element.attrs.get("role") == "alert"]
    assert "form-error" in summary.attrs.get("class", "")
    assert "fields" in summary.inner_text


def test_a_form_without_errors_has_no_alert_and_no_invalid_field(client, logged_in):
    page = _page(client, "/blogs/new")

    assert not [element for element in page.elements if element.attrs.get("role") == "alert"]
    assert not [element for element in page.elements if "aria-invalid" in element.attrs]
    assert not [element for element in page.elements if "autofocus" in element.attrs]


def test_a_saved_message_is_announced_politely(client, logged_in):
    location = submit_form(client, "/blogs/new", {"title": "Hello", "body": "Words."}).headers[
        "location"
    ]

    page = _page(client, location)

    (flashes,) = [
        element for element in page.elements if "flashes" in element.attrs.get("class", "")
    ]
    assert flashes.attrs.get("role") == "status"
    assert flashes.inner_text


# The stylesheet


@pytest.fixture
def stylesheet(client) -> str:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    return response.text


def test_the_stylesheet_has_a_dark_theme_following_the_system_setting(stylesheet):
    assert "@media (prefers-color-scheme: dark)" in stylesheet


def test_the_stylesheet_shows_keyboard_focus(stylesheet):
    assert ":focus-visible" in stylesheet
    rule = stylesheet[stylesheet.index(":focus-visible") :].split("}", 1)[0]
    assert "outline" in rule
