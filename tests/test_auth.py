"""Signing up, logging in and out, and the session that goes with them."""

import logging
import re
from html import unescape

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from blog.models import User
from tests.conftest import (
    DEFAULT_PASSWORD,
    as_multipart,
    assert_html_page,
    count_rows,
    csrf_token_of,
    find_form,
    log_in,
    signed_in_name,
    snapshot,
    submit_form,
)

NEW_PASSWORD = "a-long-secret-passphrase"


def _register(client, name="Ada Lovelace", email="ada@example.com", password=NEW_PASSWORD):
    return submit_form(client, "/register", {"name": name, "email": email, "password": password})


def _stored_user(session, email: str) -> User | None:
    session.expire_all()
    return session.exec(select(User).where(User.email == email)).first()


def _form_message(html: str) -> str:
    match = re.search(r'<p class="form-error"[^>]*>(.*?)</p>', html, re.S)
    assert match, "the page shows no message for the form"
    return match.group(1).strip()


# Register


def test_register_redirects_and_logs_the_new_user_in(client):
    response = _register(client, name="Ada Lovelace")

    assert response.status_code == 303
    assert signed_in_name(client.get(response.headers["location"]).text) == "Ada Lovelace"


def test_register_stores_the_user_with_the_email_lower_cased(client, session):
    _register(client, name="Ada Lovelace", email="Ada.Lovelace@Example.COM")

    user = _stored_user(session, "ada.lovelace@example.com")
    assert user is not None
    assert user.name == "Ada Lovelace"
    assert count_rows(session, User) == 1


def test_register_stores_an_argon2_hash_never_the_password(client, session):
    _register(client, email="ada@example.com", password=NEW_PASSWORD)

    user = _stored_user(session, "ada@example.com")
    assert user.password_hash.startswith("$argon2")
    assert NEW_PASSWORD not in user.password_hash
    assert PasswordHasher().verify(user.password_hash, NEW_PASSWORD)


def test_the_new_user_can_log_in_again_with_their_password(client, session):
    _register(client, email="ada@example.com")
    submit_form(client, "/", action="/logout")

    log_in(client, _stored_user(session, "ada@example.com"), NEW_PASSWORD)

    assert signed_in_name(client.get("/").text) == "Ada Lovelace"


def test_the_password_never_appears_in_any_page(client, session):
    response = _register(client, name="", email="ada@example.com")
    assert response.status_code == 422
    pages = [response.text]

    _register(client)
    user = _stored_user(session, "ada@example.com")
    for path in ["/", "/users", f"/users/{user.id}", f"/users/{user.id}/edit", "/blogs/new"]:
        pages.append(client.get(path).text)
    submit_form(client, "/", action="/logout")
    pages.append(
        submit_form(
            client, "/login", {"email": "ada@example.com", "password": NEW_PASSWORD + "x"}
        ).text
    )

    for html in pages:
        assert NEW_PASSWORD not in html


def test_the_password_is_never_logged(client, caplog):
    caplog.set_level(logging.DEBUG)

    _register(client, email="ada@example.com")
    submit_form(client, "/", action="/logout")
    submit_form(client, "/login", {"email": "ada@example.com", "password": NEW_PASSWORD})
    submit_form(client, "/login", {"email": "ada@example.com", "password": NEW_PASSWORD + "x"})

    assert NEW_PASSWORD not in caplog.text


def test_register_accepts_a_multipart_form(client, session):
    data = {"name": "Ada", "email": "ada@example.com", "password": NEW_PASSWORD}

    response = client.post(
        "/register", files=as_multipart({**data, "csrf_token": csrf_token_of(client)})
    )

    assert response.status_code == 303
    assert _stored_user(session, "ada@example.com") is not None
    assert signed_in_name(client.get("/").text) == "Ada"


# Log in


def test_login_redirects_home_and_logs_the_user_in(client, make_user):
    user = make_user(name="Grace Hopper")

    response = submit_form(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert signed_in_name(client.get("/").text) == "Grace Hopper"


def test_login_ignores_the_case_of_the_email(client, make_user):
    user = make_user(email="grace@example.com")

    response = submit_form(
        client, "/login", {"email": "  Grace@EXAMPLE.com ", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 303
    assert signed_in_name(client.get("/").text) == user.name


@pytest.mark.parametrize("next_path", ["/blogs/new", "/users?x=1", "/blogs/1/edit"])
def test_login_redirects_to_a_local_next_path(client, make_user, next_path):
    user = make_user()

    response = submit_form(
        client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD, "next": next_path}
    )

    assert response.status_code == 303
    assert response.headers["location"] == next_path


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.com",
        "https://evil.com",
        "http://evil.com/",
        "/\\evil.com",
        "\\\\evil.com",
        "/\t/evil.com",
        " //evil.com",
        "javascript:alert(1)",
        "evil.com",
        "/blogs\r\nSet-Cookie: x=1",
    ],
)
def test_login_sends_an_outside_next_address_home(client, make_user, next_path):
    user = make_user()

    response = submit_form(
        client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD, "next": next_path}
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_a_protected_page_returns_to_itself_after_login(client, make_user):
    user = make_user()

    login_page = client.get(client.get("/blogs/new").headers["location"]).text
    # A browser sends the form's hidden fields too.
    next_path = unescape(re.search(r'name="next" value="([^"]*)"', login_page).group(1))
    _, token = find_form(login_page, "/login")
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": DEFAULT_PASSWORD,
            "next": next_path,
            "csrf_token": token,
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/blogs/new"


def test_login_page_carries_the_next_path_in_its_form(client):
    html = client.get("/login", params={"next": "/blogs/new"}).text

    assert re.search(r'name="next" value="/blogs/new"', html)


def test_login_page_drops_an_outside_next_address(client):
    html = client.get("/login", params={"next": "//evil.com"}).text

    assert "evil.com" not in html


def test_wrong_email_and_wrong_password_get_the_same_generic_answer(client, make_user, session):
    user = make_user(email="grace@example.com")
    before = snapshot(session)

    wrong_email = submit_form(
        client, "/login", {"email": "nobody@example.com", "password": DEFAULT_PASSWORD}
    )
    wrong_password = submit_form(
        client, "/login", {"email": user.email, "password": "not-the-password"}
    )

    assert_html_page(wrong_email, 400)
    assert_html_page(wrong_password, 400)
    assert _form_message(wrong_email.text) == _form_message(wrong_password.text)
    # Apart from the typed email, the two pages are the same, so neither says which was wrong.
    assert wrong_email.text.replace("nobody@example.com", "EMAIL") == wrong_password.text.replace(
        "grace@example.com", "EMAIL"
    )
    assert signed_in_name(client.get("/").text) is None
    assert snapshot(session) == before


def test_a_failed_login_keeps_the_email_but_not_the_password(client, make_user):
    user = make_user()

    response = submit_form(client, "/login", {"email": user.email, "password": "wrong-password-1"})

    assert response.status_code == 400
    assert f'value="{user.email}"' in response.text
    assert "wrong-password-1" not in response.text


def test_login_accepts_a_multipart_form(client, make_user):
    user = make_user()
    data = {"email": user.email, "password": DEFAULT_PASSWORD, "next": "/users"}

    response = client.post(
        "/login", files=as_multipart({**data, "csrf_token": csrf_token_of(client)})
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/users"
    assert signed_in_name(client.get("/").text) == user.name


# Log out


def test_logout_redirects_home_and_logs_out(client, logged_in):
    response = submit_form(client, "/", action="/logout")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert signed_in_name(client.get("/").text) is None
    assert client.get("/blogs/new").status_code == 303


def test_logout_accepts_a_multipart_form(client, logged_in):
    response = client.post("/logout", files=as_multipart({"csrf_token": csrf_token_of(client)}))

    assert response.status_code == 303
    assert signed_in_name(client.get("/").text) is None


# The session


def test_login_starts_a_new_session_with_a_new_csrf_token(client, make_user):
    user = make_user()
    token_before = csrf_token_of(client)

    log_in(client, user)

    assert csrf_token_of(client) != token_before


def test_a_token_from_before_login_is_refused_after_it(client, make_user, session):
    user = make_user()
    token_before = csrf_token_of(client)
    log_in(client, user)
    before = snapshot(session)

    response = client.post("/blogs", data={"title": "T", "body": "B", "csrf_token": token_before})

    assert_html_page(response, 403)
    assert snapshot(session) == before


def test_logout_starts_a_new_session_with_a_new_csrf_token(client, logged_in):
    token_before = csrf_token_of(client)

    submit_form(client, "/", action="/logout")

    assert csrf_token_of(client) != token_before


def test_the_session_cookie_is_http_only_and_same_site_lax(client):
    response = client.get("/login")

    cookies = [value for name, value in response.headers.multi_items() if name == "set-cookie"]
    session_cookie = [cookie for cookie in cookies if cookie.startswith("blog_session=")]
    assert len(session_cookie) == 1
    attributes = [part.strip().lower() for part in session_cookie[0].split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_the_login_cookie_is_http_only_and_same_site_lax(client, make_user):
    user = make_user()
    token = csrf_token_of(client)

    response = client.post(
        "/login", data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
