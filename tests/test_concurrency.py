"""Several authors posting at the same moment against the real server: no blog is lost."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx2
from sqlmodel import Session, select

from blog.db import make_engine
from blog.models import Blog, User
from tests.conftest import DEFAULT_PASSWORD, find_form

AUTHORS = 8
BLOGS_EACH = 10


def _post_blogs(base_url: str, email: str, number: int, start: Barrier) -> list[int]:
    """Log in as one author, wait for the others, then post BLOGS_EACH blogs."""
    with httpx2.Client(base_url=base_url, follow_redirects=False, timeout=60) as browser:
        _, token = find_form(browser.get("/login").text, "/login")
        response = browser.post(
            "/login", data={"email": email, "password": DEFAULT_PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303, response.text
        _, token = find_form(browser.get("/blogs/new").text, "/blogs")
        start.wait()
        statuses = []
        for index in range(BLOGS_EACH):
            data = {
                "title": f"Author {number} blog {index}",
                "body": f"Written by author {number}, number {index}.",
                "csrf_token": token,
            }
            statuses.append(browser.post("/blogs", data=data).status_code)
        return statuses


def test_blogs_posted_at_once_by_many_authors_are_all_kept(
    live_server, live_server_database, default_password_hash
):
    engine = make_engine(f"sqlite:///{live_server_database}")
    try:
        with Session(engine) as session:
            emails = [f"writer{number}@example.com" for number in range(AUTHORS)]
            for number, email in enumerate(emails):
                session.add(
                    User(name=f"Writer {number}", email=email, password_hash=default_password_hash)
                )
            session.commit()

        start = Barrier(AUTHORS)
        with ThreadPoolExecutor(max_workers=AUTHORS) as pool:
            futures = [
                pool.submit(_post_blogs, live_server, email, number, start)
                for number, email in enumerate(emails)
            ]
            statuses = [status for future in futures for status in future.result()]

        assert statuses == [303] * AUTHORS * BLOGS_EACH
        with Session(engine) as session:
            titles = session.exec(select(Blog.title)).all()
        expected = {
            f"Author {number} blog {index}"
            for number in range(AUTHORS)
            for index in range(BLOGS_EACH)
        }
        assert len(titles) == AUTHORS * BLOGS_EACH
        assert set(titles) == expected
    finally:
        engine.dispose()
