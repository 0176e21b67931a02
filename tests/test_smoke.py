from tests.conftest import submit_form


def test_an_author_signs_up_writes_edits_and_deletes_a_blog(client):
    response = submit_form(
        client, "/register", {"name": "Ada", "email": "Ada@Example.com", "password": "secret-123"}
    )
    assert response.status_code == 303
    response = submit_form(client, "/blogs/new", {"title": "Hello", "body": "First words."})
    assert response.status_code == 303
    location = response.headers["location"]
    page = client.get(location)
    assert "Hello" in page.text and "Ada" in page.text
    blog_address = location.rsplit("/", 1)[0]
    response = submit_form(
        client, f"{blog_address}/edit", {"title": "Hello again", "body": "More."}
    )
    assert response.status_code == 303
    assert "Hello again" in client.get(response.headers["location"]).text
    response = submit_form(client, f"{blog_address}/delete")
    assert response.status_code == 303
    assert client.get(blog_address).status_code == 404
