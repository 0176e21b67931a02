"""A request holds no pooled connection while its client is still sending the body: reads run
on the event loop, which must always find a connection free (blog.db)."""

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
import pytest

from tests.conftest import csrf_token_of

pytestmark = pytest.mark.same_on_every_database


def test_no_connection_is_held_while_a_logged_in_form_is_still_arriving(app, client, logged_in):
    token = csrf_token_of(client)
    pool = app.state.engine.pool
    # The test's own session (the factories') holds one of its own.
    held_before = pool.checkedout()
    held_while_sending = []

    def slow_body():
        yield f"csrf_token={token}&title=Half".encode()
        # The app has read the first part and waits for the rest: it has checked the login.
        held_while_sending.append(pool.checkedout())
        yield b"&body=words"

    response = client.post(
        "/blogs",
        content=slow_body(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code in (303, 422)
    assert held_while_sending == [held_before]
