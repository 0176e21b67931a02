"""Twenty readers commenting on one blog at the same moment: every comment is kept and counted.

Concurrent browsers on the test's app, each in a thread of its own, against its database file
(or PostgreSQL, with TEST_BACKEND=postgresql): the writes really overlap in the database, where
the count on the blog is kept by triggers.
"""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from fastapi.testclient import TestClient
from sqlmodel import select

from blog.models import Blog, Comment
from tests.comment_helpers import settled
from tests.conftest import find_form, log_in

READERS = 20


def test_twenty_comments_posted_at_once_on_one_blog_are_all_kept_and_counted(
    app, make_user, make_blog, session
):
    blog = make_blog()
    path, blog_id = blog.path, blog.id
    browsers = [TestClient(app, follow_redirects=False) for _ in range(READERS)]
    tokens = []
    for number, browser in enumerate(browsers):
        log_in(browser, make_user(name=f"Reader {number}", created_at=settled()))
        tokens.append(find_form(browser.get(path).text, f"/blogs/{blog_id}/comments")[1])
    start = Barrier(READERS)

    def comment(number: int) -> int:
        start.wait()
        data = {"body": f"Comment number {number}.", "csrf_token": tokens[number]}
        return browsers[number].post(f"/blogs/{blog_id}/comments", data=data).status_code

    with ThreadPoolExecutor(max_workers=READERS) as pool:
        statuses = list(pool.map(comment, range(READERS)))

    assert statuses == [303] * READERS
    session.expire_all()
    bodies = session.exec(select(Comment.body).where(Comment.blog_id == blog_id)).all()
    assert sorted(bodies) == sorted(f"Comment number {number}." for number in range(READERS))
    assert session.get(Blog, blog_id).comment_count == READERS
    assert f"{READERS} comments" in browsers[0].get(path).text
