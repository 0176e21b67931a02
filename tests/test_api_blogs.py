"""The API's blogs, authors, tags and search: what readers see, and what tokens may write."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from blog.app import create_app
from blog.models import Blog, utc_now
from tests.api_helpers import assert_problem, bearer, make_token
from tests.conftest import count_rows, snapshot


@pytest.fixture
def author(make_user):
    return make_user(name="Ada")


@pytest.fixture
def token(session, author) -> str:
    return make_token(session, author)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [blog["id"] for blog in response.json()["data"]]


# Reading


def test_blogs_are_listed_newest_first_with_their_author_and_tags(client, make_blog, author):
    now = utc_now()
    older = make_blog(author, created_at=now - timedelta(hours=2), tags=["python"])
    newer = make_blog(author, created_at=now - timedelta(hours=1))

    response = client.get("/api/v1/blogs")

    assert ids(response) == [newer.id, older.id]
    listed = response.json()["data"][1]
    assert listed["author"] == {"id": author.id, "name": "Ada", "bio": "", "is_admin": False}
    assert listed["tags"] == [{"name": "python"}]
    assert listed["status"] == "published"
    assert listed["path"] == older.path
    assert response.json()["next"] is None


def test_the_next_link_pages_through_every_blog_once(client, make_blog):
    now = utc_now()
    blogs = [make_blog(created_at=now - timedelta(minutes=n)) for n in range(5)]

    seen, address = [], "/api/v1/blogs?limit=2"
    while address is not None:
        response = client.get(address)
        seen += ids(response)
        address = response.json()["next"]

    assert seen == [blog.id for blog in blogs]


def test_limit_is_at_most_100(client):
    problem = assert_problem(client.get("/api/v1/blogs?limit=101"), 422)

    assert [error["field"] for error in problem["errors"]] == ["limit"]


def test_a_cursor_no_next_link_carries_is_a_422(client):
    problem = assert_problem(client.get("/api/v1/blogs?cursor=not-a-cursor"), 422)

    assert problem["errors"][0]["field"] == "cursor"


def test_drafts_and_scheduled_blogs_are_in_no_list_and_a_404_to_readers(
    client, make_blog, author, session
):
    draft = make_blog(author, draft=True)
    scheduled = make_blog(author, published_at=utc_now() + timedelta(days=1))
    other_token = make_token(session, make_blog().author)

    for blog in (draft, scheduled):
        assert blog.id not in ids(client.get("/api/v1/blogs"))
        assert blog.id not in ids(client.get(f"/api/v1/users/{author.id}/blogs"))
        assert_problem(client.get(f"/api/v1/blogs/{blog.id}"), 404)
        assert_problem(client.get(f"/api/v1/blogs/{blog.id}", headers=bearer(other_token)), 404)


def test_a_draft_is_read_by_its_author_with_a_token(client, make_blog, author, token):
    draft = make_blog(author, draft=True)

    response = client.get(f"/api/v1/blogs/{draft.id}", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["status"] == "draft"


def test_a_blog_carries_its_version_as_etag(client, make_blog):
    blog = make_blog()

    response = client.get(f"/api/v1/blogs/{blog.id}")

    assert response.headers["etag"] == '"1"'
    assert response.json()["version"] == 1


def test_a_missing_blog_is_a_404_problem(client):
    assert_problem(client.get("/api/v1/blogs/999"), 404)
    assert_problem(client.get("/api/v1/blogs/not-a-number"), 404)


def test_an_author_and_their_blogs(client, make_blog, make_user):
    author = make_user(name="Grace")
    blog = make_blog(author)
    make_blog()

    assert client.get(f"/api/v1/users/{author.id}").json()["name"] == "Grace"
    assert ids(client.get(f"/api/v1/users/{author.id}/blogs")) == [blog.id]
    assert_problem(client.get("/api/v1/users/999"), 404)
    assert_problem(client.get("/api/v1/users/999/blogs"), 404)


def test_a_suspended_author_is_a_404(client, make_blog, make_user, session):
    author = make_user()
    make_blog(author)
    author.suspended_at = utc_now()
    session.add(author)
    session.commit()

    assert_problem(client.get(f"/api/v1/users/{author.id}"), 404)
    assert ids(client.get("/api/v1/blogs")) == []


def test_a_tags_blogs_in_any_case(client, make_blog):
    tagged = make_blog(tags=["python"])
    make_blog(tags=["rust"])

    assert ids(client.get("/api/v1/tags/Python/blogs")) == [tagged.id]
    assert ids(client.get("/api/v1/tags/unused/blogs")) == []
    assert_problem(client.get("/api/v1/tags/%20%20/blogs"), 404)


def test_search_finds_published_blogs_only(client, make_blog):
    found = make_blog(title="Sourdough at home")
    make_blog(title="Sourdough drafts", draft=True)
    make_blog(title="Gardening")

    assert ids(client.get("/api/v1/search", params={"q": "sourdough"})) == [found.id]
    assert ids(client.get("/api/v1/search", params={"q": ""})) == []


def test_me_is_the_tokens_user_and_needs_a_token(client, author, token):
    assert client.get("/api/v1/me", headers=bearer(token)).json()["id"] == author.id
    problem = assert_problem(client.get("/api/v1/me"), 401)

    assert "token" in problem["detail"]


# Writing


def test_writing_a_blog_answers_201_with_its_address_and_etag(client, author, token, session):
    body = {"title": "Hello", "body": "First words.", "tags": ["Web Dev", "python"]}

    response = client.post("/api/v1/blogs", json=body, headers=bearer(token))

    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/api/v1/blogs/{created['id']}"
    assert response.headers["etag"] == '"1"'
    assert created["author_id"] == author.id
    assert [tag["name"] for tag in created["tags"]] == ["python", "web-dev"]
    assert client.get(response.headers["location"]).json() == created


def test_a_draft_written_through_the_api_is_seen_by_its_author_only(client, token):
    response = client.post(
        "/api/v1/blogs", json={"title": "Later", "body": "Soon.", "status": "draft"},
        headers=bearer(token),
    )  # fmt: skip

    assert response.json()["status"] == "draft"
    assert ids(client.get("/api/v1/blogs")) == []


def test_invalid_fields_are_a_422_with_one_entry_each(client, token, session):
    body = {"title": "", "body": "x" * 100_001, "tags": ["ok", "no spaces!"], "status": "gone"}

    problem = assert_problem(client.post("/api/v1/blogs", json=body, headers=bearer(token)), 422)

    fields = {error["field"]: error for error in problem["errors"]}
    assert set(fields) == {"title", "body", "tags", "status"}
    assert fields["title"] == {
        "location": "body", "field": "title", "detail": "This field is required.",
    }  # fmt: skip
    assert fields["body"]["detail"] == "Must be at most 100,000 characters."
    assert count_rows(session, Blog) == 0


def test_a_scheduled_blog_needs_a_time_in_the_future(client, token):
    body = {"title": "Soon", "body": "Words.", "status": "scheduled"}

    problem = assert_problem(client.post("/api/v1/blogs", json=body, headers=bearer(token)), 422)

    assert problem["errors"] == [
        {"location": "body", "field": "publish_at", "detail": "Choose when to publish it."}
    ]


def test_a_body_that_is_not_json_is_a_422(client, token):
    response = client.post(
        "/api/v1/blogs",
        content=b"{not json",
        headers={**bearer(token), "Content-Type": "application/json"},
    )

    assert_problem(response, 422)


def test_writing_needs_a_token(client, session):
    assert_problem(client.post("/api/v1/blogs", json={"title": "A", "body": "B"}), 401)
    assert count_rows(session, Blog) == 0


def test_a_session_cookie_does_not_authenticate_api_writes(client, logged_in, session):
    response = client.post("/api/v1/blogs", json={"title": "A", "body": "B"})

    assert_problem(response, 401)
    assert count_rows(session, Blog) == 0


def test_patching_changes_only_the_fields_sent_and_moves_the_etag(
    client, make_blog, author, token, session
):
    blog = make_blog(author, title="Old", body="Kept.")

    response = client.patch(
        f"/api/v1/blogs/{blog.id}", json={"title": "New"}, headers=bearer(token)
    )

    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert (response.json()["title"], response.json()["body"]) == ("New", "Kept.")


def test_patching_with_if_match_of_the_current_version_saves(client, make_blog, author, token):
    blog = make_blog(author)
    etag = client.get(f"/api/v1/blogs/{blog.id}").headers["etag"]

    response = client.patch(
        f"/api/v1/blogs/{blog.id}",
        json={"title": "Mine"},
        headers={**bearer(token), "If-Match": etag},
    )

    assert response.status_code == 200


def test_patching_with_if_match_of_an_older_version_is_a_412_and_changes_nothing(
    client, make_blog, author, token, session
):
    blog = make_blog(author, title="Original")
    stale = client.get(f"/api/v1/blogs/{blog.id}").headers["etag"]
    client.patch(f"/api/v1/blogs/{blog.id}", json={"title": "Theirs"}, headers=bearer(token))
    before = snapshot(session)

    response = client.patch(
        f"/api/v1/blogs/{blog.id}",
        json={"title": "Mine"},
        headers={**bearer(token), "If-Match": stale},
    )

    assert_problem(response, 412)
    assert snapshot(session) == before


def test_patching_with_an_older_version_in_the_body_is_a_409(client, make_blog, author, token):
    blog = make_blog(author)
    client.patch(f"/api/v1/blogs/{blog.id}", json={"title": "Theirs"}, headers=bearer(token))

    response = client.patch(
        f"/api/v1/blogs/{blog.id}", json={"title": "Mine", "version": 1}, headers=bearer(token)
    )

    assert_problem(response, 409)


def test_only_the_author_may_patch_a_blog(client, make_blog, make_user, session):
    blog = make_blog()
    other = make_token(session, make_user())

    response = client.patch(f"/api/v1/blogs/{blog.id}", json={"title": "X"}, headers=bearer(other))

    assert_problem(response, 403)


def test_patching_anothers_draft_is_a_404(client, make_blog, make_user, session):
    draft = make_blog(draft=True)
    other = make_token(session, make_user())

    response = client.patch(f"/api/v1/blogs/{draft.id}", json={"title": "X"}, headers=bearer(other))

    assert_problem(response, 404)


def test_deleting_a_blog_answers_204(client, make_blog, author, token, session):
    blog = make_blog(author)

    response = client.delete(f"/api/v1/blogs/{blog.id}", headers=bearer(token))

    assert response.status_code == 204
    assert count_rows(session, Blog) == 0


def test_deleting_with_a_stale_if_match_is_a_412(client, make_blog, author, token, session):
    blog = make_blog(author)

    response = client.delete(
        f"/api/v1/blogs/{blog.id}", headers={**bearer(token), "If-Match": '"7"'}
    )

    assert_problem(response, 412)
    assert count_rows(session, Blog) == 1


def test_others_may_not_delete_a_blog_but_admins_may(client, make_blog, make_user, session):
    blog = make_blog()
    admin = make_user()
    admin.is_admin = True
    session.add(admin)
    session.commit()
    stranger = make_token(session, make_user())

    assert_problem(client.delete(f"/api/v1/blogs/{blog.id}", headers=bearer(stranger)), 403)
    admin_token = make_token(session, admin)
    assert client.delete(f"/api/v1/blogs/{blog.id}", headers=bearer(admin_token)).status_code == 204


def test_a_blog_written_through_the_api_shows_on_the_pages(client, token, session):
    client.post("/api/v1/blogs", json={"title": "Seen", "body": "Here."}, headers=bearer(token))
    blog = session.exec(select(Blog)).one()

    assert "Seen" in client.get(blog.path).text


def test_api_answers_are_never_kept_by_the_page_cache(client, make_blog, app):
    make_blog()

    client.get("/api/v1/blogs")
    client.get("/api/v1/blogs")

    assert app.state.page_cache.size == 0
    assert "x-cache" not in client.get("/api/v1/blogs").headers


def test_the_api_never_answers_html(client, logged_in):
    for response in (
        client.get("/api/v1/no/such/address"),
        client.post("/api/v1/blogs/1/comments", json={}),
        client.put("/api/v1/blogs"),
    ):
        assert response.headers["content-type"] == "application/problem+json"


def test_a_wrong_host_is_a_400_problem(settings):
    strict = create_app(settings.model_copy(update={"allowed_hosts": ["blog.example.com"]}))
    with TestClient(strict) as client:
        assert_problem(client.get("/api/v1/blogs"), 400)
        assert_problem(client.get("/api/v1/nothing"), 400)
    strict.state.engine.dispose()


def test_a_field_patched_to_null_is_left_as_it_is(client, make_blog, author, token):
    blog = make_blog(author, title="Kept")

    response = client.patch(
        f"/api/v1/blogs/{blog.id}",
        json={"title": None, "body": None, "comments_open": None, "status": None},
        headers=bearer(token),
    )

    assert response.status_code == 200
    assert (response.json()["title"], response.json()["status"]) == ("Kept", "published")
