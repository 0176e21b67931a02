"""The API's OpenAPI schema: valid, complete, made of the models.py classes; and its docs page."""

import re

import pytest
from openapi_spec_validator import validate

from blog.api.problems import Problem
from blog.models import (
    BlogCreate,
    BlogPublic,
    BlogsPublic,
    BlogUpdate,
    CommentCreate,
    CommentPublic,
    CommentsPublic,
    CommentUpdate,
    UserPublic,
)
from tests.conftest import assert_html_page

# What this checks does not depend on the database: the PostgreSQL run leaves it out.
pytestmark = pytest.mark.same_on_every_database

REF = "#/components/schemas/{model}"


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_the_schema_is_valid_openapi_3_1(schema):
    assert schema["openapi"].startswith("3.1")
    validate(schema)


def test_the_schema_holds_only_api_operations_under_its_prefix(schema):
    assert schema["servers"] == [{"url": "/api/v1"}]
    assert "/blogs" in schema["paths"]
    assert not any(path.startswith(("/api", "/login", "/account")) for path in schema["paths"])


@pytest.mark.parametrize(
    ("model", "mode"),
    [
        (BlogCreate, "validation"),
        (BlogUpdate, "validation"),
        (CommentCreate, "validation"),
        (CommentUpdate, "validation"),
        (BlogPublic, "serialization"),
        (BlogsPublic, "serialization"),
        (CommentPublic, "serialization"),
        (CommentsPublic, "serialization"),
        (UserPublic, "serialization"),
    ],
)
def test_the_component_schemas_are_the_models_classes(schema, model, mode):
    own = model.model_json_schema(mode=mode, ref_template=REF)
    own.pop("$defs", None)

    # FastAPI leaves out `"default": null`, which says nothing a missing default does not.
    assert schema["components"]["schemas"][model.__name__] == without_null_defaults(own)


def without_null_defaults(value):
    if isinstance(value, dict):
        return {
            key: without_null_defaults(item)
            for key, item in value.items()
            if not (key == "default" and item is None)
        }
    if isinstance(value, list):
        return [without_null_defaults(item) for item in value]
    return value


def test_request_bodies_and_answers_name_those_classes(schema):
    def body_of(path, method, status=None):
        operation = schema["paths"][path][method]
        content = operation["requestBody"] if status is None else operation["responses"][status]
        return content["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    assert body_of("/blogs", "post") == "BlogCreate"
    assert body_of("/blogs/{blog_id}", "patch") == "BlogUpdate"
    assert body_of("/blogs/{blog_id}/comments", "post") == "CommentCreate"
    assert body_of("/comments/{comment_id}", "patch") == "CommentUpdate"
    assert body_of("/blogs", "get", "200") == "BlogsPublic"
    assert body_of("/blogs/{blog_id}", "get", "200") == "BlogPublic"
    assert body_of("/users/{user_id}", "get", "200") == "UserPublic"
    assert body_of("/blogs/{blog_id}/comments", "get", "200") == "CommentsPublic"


def test_every_operation_declares_the_errors_any_request_may_get(schema):
    for method, path, operation in operations(schema):
        declared = set(operation["responses"])
        assert {"400", "401", "413", "422", "429", "503"} <= declared, (method, path)
        if "{" in path:
            assert "404" in declared, (method, path)


def test_every_error_is_declared_as_problem_json(schema):
    problem = Problem.model_json_schema(ref_template=REF)
    problem.pop("$defs", None)
    assert schema["components"]["schemas"]["Problem"] == without_null_defaults(problem)
    for _, _, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"]


def test_the_statuses_of_writes_and_conditional_edits_are_declared(schema):
    assert {"403", "404", "409", "412"} <= set(
        schema["paths"]["/blogs/{blog_id}"]["patch"]["responses"]
    )
    assert "412" in schema["paths"]["/blogs/{blog_id}"]["delete"]["responses"]
    created = schema["paths"]["/blogs"]["post"]["responses"]["201"]
    assert {"Location", "ETag"} <= set(created["headers"])
    assert "Retry-After" in schema["paths"]["/blogs"]["get"]["responses"]["429"]["headers"]


def test_reads_take_a_token_and_writes_need_one(schema):
    assert schema["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["token"]["description"],
    }
    assert {} in schema["paths"]["/blogs"]["get"]["security"]
    assert schema["paths"]["/blogs"]["post"]["security"] == [{"token": []}]
    assert schema["paths"]["/me"]["get"]["security"] == [{"token": []}]


def test_the_docs_page_lists_every_operation_and_schema(client, schema):
    response = client.get("/api/docs")

    assert_html_page(response, 200)
    for method, path, _ in operations(schema):
        assert f"{method.upper()} /api/v1{path}" in response.text
    for name in schema["components"]["schemas"]:
        assert f'id="schema-{name}"' in response.text


def test_the_docs_page_needs_no_script_and_keeps_the_sites_csp(client):
    response = client.get("/api/docs")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script" not in response.text
    assert not re.search(r"\sstyle=", response.text)
    assert not re.search(r'(src|href)="(https?:)?//', response.text)


def test_the_docs_page_shows_fields_their_limits_and_answers(client):
    html = client.get("/api/docs").text

    assert "1 to 200 characters" in html  # a title
    assert "application/problem+json" in html
    assert "BlogCreate" in html
