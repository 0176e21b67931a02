"""Admins: made by the `blog` command, they see every account at /admin/users, suspend,
reinstate and delete accounts there, and may delete any blog (but edit only their own)."""

import io
import re
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from blog.cli import main
from blog.migrate import upgrade
from blog.models import Blog, User
from tests.conftest import (
    assert_html_page,
    count_rows,
    csrf_token_of,
    engine_on,
    find_form,
    log_in,
    post_back,
    snapshot,
    submit_form,
)

PASSWORD = "a long enough password"


@pytest.fixture
def make_admin(make_user, session):
    """Create a user straight in the database, as an admin."""

    def make_admin(name: str = "Root Admin") -> User:
        user = make_user(name=name)
        user.is_admin = True
        session.add(user)
        session.commit()
        session.refresh(user)
        return user

    return make_admin


@pytest.fixture
def admin(client, make_admin) -> User:
    """An admin, logged in on `client`."""
    user = make_admin()
    log_in(client, user)
    return user


@pytest.fixture
def other_client(app) -> Iterator[TestClient]:
    """A second browser on the same site."""
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _press(client: TestClient, page: str, action: str):
    """Press a button on the page as a browser does: its form with every hidden field."""
    html = client.get(page).text
    return post_back(client, html, action, ["next"])


def _fresh(session, model, id_):
    session.expire_all()
    return session.get(model, id_)


# The `blog` command


@pytest.fixture
def cli_database(tmp_path, monkeypatch) -> str:
    """A migrated SQLite file, named in DATABASE_URL as the command reads it."""
    database_url = f"sqlite:///{tmp_path / 'blog.db'}"
    monkeypatch.setenv("DATABASE_URL", database_url)
    with engine_on(database_url) as engine:
        upgrade(engine)
    return database_url


def _stored_user(database_url: str, email: str) -> User | None:
    with engine_on(database_url) as engine, Session(engine) as session:
        return session.exec(select(User).where(User.email == email)).first()


def _create_user(monkeypatch, *options: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    arguments = ["--name", "Ada", "--email", "ada@example.com", "--password-stdin"]
    return main(["create-user", *arguments, *options])


def test_create_user_with_admin_makes_an_admin(cli_database, monkeypatch, capsys):
    assert _create_user(monkeypatch, "--admin") == 0

    assert "Created admin" in capsys.readouterr().out
    assert _stored_user(cli_database, "ada@example.com").is_admin


def test_create_user_without_admin_makes_no_admin(cli_database, monkeypatch):
    assert _create_user(monkeypatch) == 0

    assert not _stored_user(cli_database, "ada@example.com").is_admin


def test_admin_grant_makes_an_existing_user_an_admin(cli_database, monkeypatch, capsys):
    assert _create_user(monkeypatch) == 0

    assert main(["admin", "grant", "ADA@example.com"]) == 0

    assert "now an admin" in capsys.readouterr().out
    assert _stored_user(cli_database, "ada@example.com").is_admin


def test_admin_revoke_makes_an_admin_a_user_again(cli_database, monkeypatch, capsys):
    assert _create_user(monkeypatch, "--admin") == 0

    assert main(["admin", "revoke", "ada@example.com"]) == 0

    assert "no longer an admin" in capsys.readouterr().out
    assert not _stored_user(cli_database, "ada@example.com").is_admin


@pytest.mark.parametrize("action", ["grant", "revoke"])
def test_admin_grant_or_revoke_for_an_unknown_email_fails_with_one_line(
    cli_database, capsys, action
):
    assert main(["admin", action, "nobody@example.com"]) == 1

    output, errors = capsys.readouterr()
    assert output == ""
    assert errors == "blog: no account has the email nobody@example.com\n"


@pytest.mark.parametrize("command", [["admin"], ["admin", "grant"], ["admin", "revoke"]])
def test_the_admin_commands_have_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])

    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(" ".join(["usage: blog", *command]))


def test_blog_admin_without_a_command_prints_its_help_and_returns_2(capsys):
    assert main(["admin"]) == 2

    output = capsys.readouterr().out
    assert "grant" in output
    assert "revoke" in output


# Who may see the accounts


def test_a_visitor_asking_for_the_accounts_is_sent_to_log_in(client):
    response = client.get("/admin/users")

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert (location.path, location.query) == ("/login", "next=%2Fadmin%2Fusers")


def test_a_user_who_is_not_an_admin_gets_the_403_page(client, logged_in):
    assert_html_page(client.get("/admin/users"), 403)


def test_an_admin_sees_every_account_with_its_email(client, admin, make_user):
    others = [make_user(name=f"Writer {letter}") for letter in "ABC"]

    response = client.get("/admin/users")

    assert_html_page(response, 200)
    for user in [admin, *others]:
        assert user.name in response.text
        assert user.email in response.text


def test_the_accounts_are_paged_like_the_authors(client, admin, make_user, settings):
    for number in range(settings.page_size + 5):
        make_user(name=f"Writer {number:03}")

    first = client.get("/admin/users").text
    next_link = re.search(r'<a rel="next" href="\?([^"]+)"', first)
    assert next_link is not None
    second = client.get(f"/admin/users?{next_link.group(1).replace('&amp;', '&')}")

    assert_html_page(second, 200)
    shown = re.findall(r'<a href="/users/\d+">(Writer \d+)</a>', first + second.text)
    assert len(shown) == settings.page_size + 5
    assert len(set(shown)) == len(shown)


def test_only_admins_see_the_accounts_link(client, admin, other_client, make_user):
    log_in(other_client, make_user())

    assert 'href="/admin/users"' in client.get("/").text
    assert 'href="/admin/users"' not in other_client.get("/").text


# Suspend, reinstate, delete


def test_suspending_an_account_from_the_list_marks_it_suspended_and_comes_back(
    client, admin, make_user, session
):
    user = make_user(name="Spammer")

    response = _press(client, "/admin/users", f"/admin/users/{user.id}/suspend")

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users"
    assert _fresh(session, User, user.id).suspended_at is not None
    page = client.get("/admin/users").text
    assert "Spammer is suspended" in page
    find_form(page, f"/admin/users/{user.id}/reinstate")


def test_reinstating_an_account_lifts_the_suspension(client, admin, make_user, session):
    user = make_user(name="Mistaken")
    _press(client, "/admin/users", f"/admin/users/{user.id}/suspend")

    response = _press(client, "/admin/users", f"/admin/users/{user.id}/reinstate")

    assert response.status_code == 303
    assert _fresh(session, User, user.id).suspended_at is None
    find_form(client.get("/admin/users").text, f"/admin/users/{user.id}/suspend")


def test_the_buttons_come_back_to_the_page_they_were_on(client, admin, make_user, settings):
    users = [make_user(name=f"Writer {number:03}") for number in range(settings.page_size + 2)]
    first = client.get("/admin/users").text
    query = re.search(r'<a rel="next" href="\?([^"]+)"', first).group(1).replace("&amp;", "&")

    response = _press(client, f"/admin/users?{query}", f"/admin/users/{users[-1].id}/suspend")

    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users?{query}"


def test_a_button_sending_anywhere_else_comes_back_to_the_list(client, admin, make_user):
    user = make_user()
    token = csrf_token_of(client)

    response = client.post(
        f"/admin/users/{user.id}/suspend",
        data={"csrf_token": token, "next": "https://evil.example/admin/users"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users"


def test_deleting_an_account_from_the_list_deletes_it_and_its_blogs(
    client, admin, make_user, make_blog, session
):
    user = make_user(name="Gone")
    make_blog(author=user)
    make_blog(author=user, draft=True)

    response = _press(client, "/admin/users", f"/admin/users/{user.id}/delete")

    assert response.status_code == 303
    assert _fresh(session, User, user.id) is None
    assert count_rows(session, Blog) == 0


def test_an_admin_has_no_buttons_for_their_own_account(client, admin):
    page = client.get("/admin/users").text

    assert f"/admin/users/{admin.id}/suspend" not in page
    assert f"/admin/users/{admin.id}/delete" not in page


@pytest.mark.parametrize("action", ["suspend", "delete"])
def test_an_admin_cannot_suspend_or_delete_their_own_account_from_here(
    client, admin, session, action
):
    before = snapshot(session)

    response = client.post(
        f"/admin/users/{admin.id}/{action}", data={"csrf_token": csrf_token_of(client)}
    )

    assert_html_page(response, 403)
    assert snapshot(session) == before
    assert _fresh(session, User, admin.id).suspended_at is None


@pytest.mark.parametrize("action", ["suspend", "reinstate", "delete"])
def test_a_user_who_is_not_an_admin_cannot_use_the_buttons(
    client, logged_in, make_user, session, action
):
    user = make_user()
    before = snapshot(session)

    response = client.post(
        f"/admin/users/{user.id}/{action}", data={"csrf_token": csrf_token_of(client)}
    )

    assert_html_page(response, 403)
    assert snapshot(session) == before
    assert _fresh(session, User, user.id).suspended_at is None


@pytest.mark.parametrize("action", ["suspend", "reinstate", "delete"])
def test_a_visitor_using_the_buttons_is_sent_to_log_in(client, make_user, session, action):
    user = make_user()
    before = snapshot(session)

    response = client.post(
        f"/admin/users/{user.id}/{action}", data={"csrf_token": csrf_token_of(client)}
    )

    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/login"
    assert snapshot(session) == before


@pytest.mark.parametrize("action", ["suspend", "reinstate", "delete"])
def test_a_button_without_the_csrf_token_changes_nothing(client, admin, make_user, session, action):
    user = make_user()
    before = snapshot(session)

    response = client.post(f"/admin/users/{user.id}/{action}", data={})

    assert_html_page(response, 403)
    assert snapshot(session) == before


@pytest.mark.parametrize("bad_id", ["424242", "abc", "0", str(2**31)])
def test_a_button_for_an_id_that_names_nothing_is_a_404_page(client, admin, bad_id):
    response = client.post(
        f"/admin/users/{bad_id}/suspend", data={"csrf_token": csrf_token_of(client)}
    )

    assert_html_page(response, 404)


# Blogs


def test_an_admin_deletes_another_authors_blog_through_its_own_delete_form(
    client, admin, make_blog, session
):
    blog = make_blog(title="Spam")

    page = client.get(blog.path).text
    assert f'href="/blogs/{blog.id}/delete"' in page
    response = submit_form(client, f"/blogs/{blog.id}/delete")

    assert response.status_code == 303
    assert _fresh(session, Blog, blog.id) is None
    assert "The blog is deleted." in client.get("/").text


def test_an_admin_cannot_edit_another_authors_blog(client, admin, make_blog, session):
    blog = make_blog(title="Theirs")
    before = snapshot(session)

    assert f'href="/blogs/{blog.id}/edit"' not in client.get(blog.path).text
    assert_html_page(client.get(f"/blogs/{blog.id}/edit"), 403)
    response = client.post(
        f"/blogs/{blog.id}/edit",
        data={"title": "Mine", "body": "Mine.", "csrf_token": csrf_token_of(client)},
    )

    assert_html_page(response, 403)
    assert snapshot(session) == before


def test_an_admin_still_cannot_see_another_authors_draft(client, admin, make_blog):
    draft = make_blog(draft=True)

    assert_html_page(client.get(draft.path), 404)
    assert_html_page(client.get(f"/blogs/{draft.id}/delete"), 404)


def test_each_button_on_the_accounts_page_names_its_account(client, admin, make_user):
    make_user(name="Ada")
    make_user(name="Grace")

    names = re.findall(r'<button[^>]*aria-label="([^"]+)"', client.get("/admin/users").text)

    assert sorted(names) == ["Delete Ada", "Delete Grace", "Suspend Ada", "Suspend Grace"]
