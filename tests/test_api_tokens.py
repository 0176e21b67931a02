"""API tokens: the tokens page (make, list, revoke), what is stored, and when tokens end."""

import re
from datetime import timedelta
from html import unescape

from sqlmodel import select

from blog.models import ApiToken, utc_now
from blog.security import token_digest
from blog.users import delete_user, suspend_user
from tests.api_helpers import assert_problem, bearer, make_token
from tests.conftest import (
    assert_html_page,
    count_rows,
    field_error,
    find_form,
    log_in,
    submit_form,
)

_TOKEN = re.compile(r'<code class="token">([^<]+)</code>')


def make_token_on_the_page(client, name: str = "deploy script"):
    return submit_form(client, "/account/tokens", {"name": name}, action="/account/tokens")


def token_on(html: str) -> str | None:
    match = _TOKEN.search(html)
    return unescape(match.group(1)) if match else None


def test_the_tokens_page_needs_a_login(client):
    response = client.get("/account/tokens")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%2Ftokens"


def test_the_profile_form_links_to_the_tokens_page(client, logged_in):
    html = client.get(f"/users/{logged_in.id}/edit").text

    assert 'href="/account/tokens"' in html


def test_a_new_token_is_shown_once_not_kept_by_caches_and_stored_only_as_a_hash(
    client, logged_in, session
):
    response = make_token_on_the_page(client)

    assert_html_page(response, 200)
    assert response.headers["cache-control"] == "no-store"
    token = token_on(response.text)
    assert token is not None and token.startswith("blog_")
    stored = session.exec(select(ApiToken)).one()
    assert stored.token_hash == token_digest(token)
    assert stored.name == "deploy script"
    assert token not in client.get("/account/tokens").text


def test_the_new_token_works_with_the_api(client, logged_in):
    token = token_on(make_token_on_the_page(client).text)

    response = client.get("/api/v1/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["id"] == logged_in.id


def test_the_page_lists_the_tokens_newest_first_with_when_they_were_made_and_used(
    client, logged_in, session
):
    make_token(session, logged_in, "first script")
    used = make_token(session, logged_in, "second script")
    client.get("/api/v1/me", headers=bearer(used))

    html = client.get("/account/tokens").text

    assert html.index("<strong>second script</strong>") < html.index(
        "<strong>first script</strong>"
    )
    assert html.count("never used") == 1
    assert html.count("last used") == 1


def test_a_token_without_a_name_comes_back_with_a_message_and_nothing_made(
    client, logged_in, session
):
    response = make_token_on_the_page(client, "   ")

    assert_html_page(response, 422)
    assert field_error(response.text, "name") == "This field is required."
    assert token_on(response.text) is None
    assert count_rows(session, ApiToken) == 0


def test_a_name_longer_than_100_characters_is_refused(client, logged_in, session):
    response = make_token_on_the_page(client, "x" * 101)

    assert_html_page(response, 422)
    assert field_error(response.text, "name") == "Must be at most 100 characters."
    assert count_rows(session, ApiToken) == 0


def test_making_a_token_needs_the_csrf_token(client, logged_in, session):
    response = client.post("/account/tokens", data={"name": "script"})

    assert_html_page(response, 403)
    assert count_rows(session, ApiToken) == 0


def test_a_revoked_token_is_refused_at_once(client, logged_in, session):
    token = make_token(session, logged_in)
    token_id = session.exec(select(ApiToken.id)).one()

    response = submit_form(client, "/account/tokens", action=f"/account/tokens/{token_id}/delete")

    assert response.status_code == 303
    assert response.headers["location"] == "/account/tokens"
    assert count_rows(session, ApiToken) == 0
    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401)


def test_another_users_token_cannot_be_revoked_and_is_a_404(client, logged_in, make_user, session):
    other = make_user()
    make_token(session, other)
    token_id = session.exec(select(ApiToken.id)).one()
    _, csrf = find_form(client.get("/account/tokens").text, "/account/tokens")

    response = client.post(f"/account/tokens/{token_id}/delete", data={"csrf_token": csrf})

    assert_html_page(response, 404)
    assert count_rows(session, ApiToken) == 1


def test_suspending_an_account_deletes_its_tokens(client, make_user, session):
    user = make_user()
    token = make_token(session, user)

    suspend_user(session=session, user=user)

    assert count_rows(session, ApiToken) == 0
    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401)


def test_a_token_of_a_suspended_account_is_refused_even_if_its_row_is_left(
    client, make_user, session
):
    user = make_user()
    token = make_token(session, user)
    # A request racing the suspension, with the row still there.
    user.suspended_at = utc_now()
    session.add(user)
    session.commit()

    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401)


def test_an_admin_suspending_an_account_ends_its_tokens(client, make_user, session):
    admin = make_user()
    admin.is_admin = True
    session.add(admin)
    session.commit()
    user = make_user()
    token = make_token(session, user)
    log_in(client, admin)

    submit_form(client, "/admin/users", action=f"/admin/users/{user.id}/suspend")

    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401)


def test_deleting_an_account_deletes_its_tokens(client, make_user, session):
    user = make_user()
    token = make_token(session, user)

    delete_user(session=session, user=user)

    assert count_rows(session, ApiToken) == 0
    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401)


def test_deleting_ones_account_on_its_page_ends_its_tokens(client, logged_in, session):
    token = make_token(session, logged_in)

    submit_form(
        client,
        f"/users/{logged_in.id}/delete",
        {"password": "correct horse battery"},
        action=f"/users/{logged_in.id}/delete",
    )

    assert count_rows(session, ApiToken) == 0
    assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401)


def test_last_used_is_written_at_most_every_few_minutes(client, make_user, session):
    user = make_user()
    token = make_token(session, user)
    client.get("/api/v1/me", headers=bearer(token))
    session.expire_all()
    first = session.exec(select(ApiToken.last_used_at)).one()

    client.get("/api/v1/me", headers=bearer(token))
    session.expire_all()
    assert session.exec(select(ApiToken.last_used_at)).one() == first

    stored = session.exec(select(ApiToken)).one()
    stored.last_used_at = first - timedelta(minutes=10)
    session.add(stored)
    session.commit()
    client.get("/api/v1/me", headers=bearer(token))
    session.expire_all()
    assert session.exec(select(ApiToken.last_used_at)).one() > first
