"""Bad input on every form: 422, the form again with a message at the field, nothing saved."""

from dataclasses import dataclass

import pytest
from markupsafe import escape

from blog.models import User
from tests.conftest import (
    DEFAULT_PASSWORD,
    assert_html_page,
    count_rows,
    field_error,
    log_in,
    signed_in_name,
    snapshot,
    submit_form,
)

MISSING = object()
# 64 + 1 + 190 characters: well formed, one past the 254 an email may have.
LONG_EMAIL = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".com"
LONGEST_EMAIL = LONG_EMAIL[:-5] + ".com"
MALFORMED_EMAILS = ["not-an-email", "ada@", "@example.com", "ada@@example.com", "ada lace@x.com"]


@dataclass(frozen=True)
class FormUnderTest:
    page: str
    valid: dict[str, str]
    needs_login: bool


FORMS = {
    "register": FormUnderTest(
        "/register",
        {"name": "Ada Lovelace", "email": "ada@example.com", "password": "a-good-password"},
        needs_login=False,
    ),
    "login": FormUnderTest(
        "/login", {"email": "known@example.com", "password": DEFAULT_PASSWORD}, needs_login=False
    ),
    "new blog": FormUnderTest(
        "/blogs/new", {"title": "A title", "body": "A body."}, needs_login=True
    ),
    "edit blog": FormUnderTest(
        "/blogs/{blog}/edit", {"title": "A new title", "body": "A new body."}, needs_login=True
    ),
    "edit profile": FormUnderTest(
        "/users/{me}/edit", {"name": "Ada Lovelace", "email": "ada@example.com"}, needs_login=True
    ),
}


def _cases(form: str, field: str, values: list) -> list:
    return [
        pytest.param(form, field, value, id=f"{form}-{field}-{_describe(value)}")
        for value in values
    ]


def _describe(value) -> str:
    if value is MISSING:
        return "missing"
    if not value.strip():
        return "blank" if value == "" else "whitespace"
    if len(value) > 30:
        return f"{len(value)}-chars"
    return value.encode("unicode_escape").decode()


NAME_CASES = [MISSING, "", "   ", "n" * 101, "Ada\x00Lovelace"]
TITLE_CASES = [MISSING, "", "   ", "t" * 201, "A\x00title"]
BODY_CASES = [MISSING, "", " \n\t\r\n ", "b" * 100_001, "A\x00body"]
EMAIL_CASES = [MISSING, "", "   ", LONG_EMAIL, *MALFORMED_EMAILS, "ada\x00@example.com"]

BAD_INPUT = [
    *_cases("register", "name", NAME_CASES),
    *_cases("register", "email", EMAIL_CASES),
    *_cases("register", "password", [MISSING, "", " " * 12, "short77", "p" * 1001, "pass\x00word"]),
    *_cases("login", "email", [MISSING, "", "   ", LONG_EMAIL, "not-an-email"]),
    *_cases("login", "password", [MISSING, "", " " * 12, "p" * 1001]),
    *_cases("new blog", "title", TITLE_CASES),
    *_cases("new blog", "body", BODY_CASES),
    *_cases("edit blog", "title", TITLE_CASES),
    *_cases("edit blog", "body", BODY_CASES),
    *_cases("edit profile", "name", NAME_CASES),
    *_cases("edit profile", "email", EMAIL_CASES),
]


@pytest.fixture
def open_form(client, make_user, make_blog):
    """Get ready to fill the named form: log in when it needs it; return its page."""

    def open_form(name: str) -> str:
        make_user(email="known@example.com")
        if not FORMS[name].needs_login:
            return FORMS[name].page
        user = make_user()
        log_in(client, user)
        blog = make_blog(author=user)
        return FORMS[name].page.format(blog=blog.id, me=user.id)

    return open_form


@pytest.mark.parametrize(("form", "field", "value"), BAD_INPUT)
def test_bad_input_is_refused_with_a_message_at_the_field(
    client, session, open_form, form, field, value
):
    page = open_form(form)
    data = {**FORMS[form].valid, field: value}
    if value is MISSING:
        del data[field]
    before = snapshot(session)

    response = submit_form(client, page, data)

    assert_html_page(response, 422)
    assert field_error(response.text, field)
    for other in FORMS[form].valid.keys() - {field}:
        assert field_error(response.text, other) is None, other
    assert snapshot(session) == before


# One case per form and field, each leaving some typed text to keep.
KEEP_TYPED = [
    *_cases("register", "name", ["n" * 101]),
    *_cases("register", "email", ["not-an-email"]),
    *_cases("register", "password", ["short77"]),
    *_cases("login", "password", ["p" * 1001]),
    *_cases("new blog", "title", ["t" * 201]),
    *_cases("new blog", "body", [""]),
    *_cases("edit blog", "title", [""]),
    *_cases("edit blog", "body", ["b" * 100_001]),
    *_cases("edit profile", "name", ["n" * 101]),
    *_cases("edit profile", "email", ["ada@"]),
]


@pytest.mark.parametrize(("form", "field", "value"), KEEP_TYPED)
def test_a_refused_form_keeps_what_was_typed_but_never_the_password(
    client, open_form, form, field, value
):
    page = open_form(form)
    data = {**FORMS[form].valid, field: value}
    if value is MISSING:
        del data[field]

    response = submit_form(client, page, data)

    assert response.status_code == 422
    for name, typed in data.items():
        if name == "password":
            if typed.strip():
                assert typed not in response.text
        elif typed.strip():
            assert str(escape(typed)) in response.text, name


def test_a_refused_login_does_not_log_in(client, open_form):
    open_form("login")

    submit_form(client, "/login", {"email": "known@example.com", "password": ""})

    assert signed_in_name(client.get("/").text) is None


@pytest.mark.parametrize("email", ["known@example.com", "KNOWN@Example.COM", " known@example.com "])
def test_register_with_an_email_already_registered_is_refused(client, session, open_form, email):
    open_form("register")
    before = snapshot(session)

    response = submit_form(
        client, "/register", {"name": "Copy", "email": email, "password": "a-good-password"}
    )

    assert_html_page(response, 422)
    assert field_error(response.text, "email")
    assert 'value="Copy"' in response.text
    assert snapshot(session) == before
    assert signed_in_name(client.get("/").text) is None


def test_register_accepts_every_field_at_its_longest(client, session):
    response = submit_form(
        client, "/register", {"name": "n" * 100, "email": LONGEST_EMAIL, "password": "p" * 1000}
    )

    assert response.status_code == 303
    assert len(LONGEST_EMAIL) == 254
    assert count_rows(session, User) == 1


def test_register_accepts_a_password_of_exactly_eight_characters(client, session):
    response = submit_form(
        client, "/register", {"name": "Ada", "email": "ada@example.com", "password": "12345678"}
    )

    assert response.status_code == 303


def test_a_refused_form_says_which_fields_are_wrong_at_the_top(client):
    response = submit_form(client, "/register", {"name": "", "email": "", "password": ""})

    assert response.status_code == 422
    for field in ("name", "email", "password"):
        assert field_error(response.text, field)
    assert 'role="alert"' in response.text
