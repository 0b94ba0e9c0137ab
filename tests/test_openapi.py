"""/api/v1/openapi.json is generated from the API's schemas and describes it as it really answers:
a valid OpenAPI 3.1 document, every route and method documented and nothing documented that is
not served, real responses valid against their schemas with no undocumented fields."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from pytest_django.fixtures import Settings

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel
from testing.api import generation_post

METHODS = ("get", "post", "put", "patch", "delete")
# Served by ninja beside the endpoints: the document itself and its docs page.
NOT_ENDPOINTS = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/"}


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def assert_matches(document: dict[str, Any], body: Any, schema_name: str) -> None:
    # The components travel along so that every $ref inside them resolves.
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    OAS31Validator(schema).validate(body)


def api_routes() -> set[str]:
    """Every URL Django serves under /api/v1/, in the document's {name} style."""
    (api,) = [
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and str(entry.pattern) == "api/v1/"
    ]
    routes = set()
    for route in api.url_patterns:
        assert isinstance(route, URLPattern)
        routes.add("/api/v1/" + re.sub(r"<\w+:(\w+)>", r"{\1}", str(route.pattern)))
    return routes - NOT_ENDPOINTS


def test_it_is_a_valid_openapi_document_served_without_signing_in(
    document: dict[str, Any],
) -> None:
    validate(document)
    assert document["info"]["title"] == "RollerAI API"


def test_every_route_is_documented_and_every_documented_path_is_served(
    document: dict[str, Any],
) -> None:
    assert api_routes() == set(document["paths"])
    assert {"/api/v1/me", "/api/v1/models", "/api/v1/generations"} <= api_routes()


def test_documented_methods_are_served_and_others_are_405_in_the_error_shape(
    document: dict[str, Any], alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model)
    for path, operations in document["paths"].items():
        url = path.replace("{generation_id}", str(generation.id))
        for method in METHODS:
            response = getattr(alice_client, method)(url, content_type="application/json")
            if method in operations:
                assert response.status_code != 405, (method, path)
                continue
            assert response.status_code == 405, (method, path)
            assert response.json() == {
                "error": {
                    "code": "method_not_allowed",
                    "message": f"{method.upper()} is not allowed here.",
                    "field": None,
                }
            }
            assert set(response["Allow"].lower().split(", ")) == set(operations) & set(METHODS)


def test_the_documented_schemas_forbid_undocumented_fields(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("Me", "Model", "ModelList", "Generation", "GenerationPage", "Image", "Error"):
        assert schemas[name]["additionalProperties"] is False, name
    with pytest.raises(ValidationError):
        assert_matches(document, {"username": "alice", "credits": 1, "extra": 1}, "Me")


def test_what_the_server_accepts_is_stated(document: dict[str, Any]) -> None:
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in document["paths"]["/api/v1/generations"]["get"]["parameters"]
    }
    assert parameters["status"]["anyOf"][0]["enum"] == [
        "queued",
        "running",
        "succeeded",
        "failed",
        "canceled",
    ]
    assert parameters["model"]["anyOf"][0]["pattern"] == "^[-a-zA-Z0-9_]+$"
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 100)
    assert "pattern" in parameters["cursor"]
    generation = document["components"]["schemas"]["Generation"]
    assert generation["properties"]["origin"]["enum"] == ["web", "api", "discord"]
    assert "origin" in generation["required"]
    submit = document["components"]["schemas"]["GenerationRequest"]
    assert submit["additionalProperties"] is False
    assert submit["required"] == ["prompt"]
    assert (
        submit["properties"]["prompt"]["minLength"],
        submit["properties"]["prompt"]["maxLength"],
    ) == (1, 1000)


def test_real_responses_match_their_schemas(
    document: dict[str, Any],
    alice_client: Client,
    bob_client: Client,
    tiny_model: DiffusionModel,
    client: Client,
) -> None:
    assert_matches(document, alice_client.get("/api/v1/me").json(), "Me")
    assert_matches(document, alice_client.get("/api/v1/models").json(), "ModelList")
    created = generation_post(alice_client, count=2)
    assert created.status_code == 202
    assert_matches(document, created.json(), "Generation")
    generation_id = created.json()["id"]
    detail = alice_client.get(f"/api/v1/generations/{generation_id}")
    assert_matches(document, detail.json(), "Generation")
    page = alice_client.get("/api/v1/generations?limit=1")
    assert_matches(document, page.json(), "GenerationPage")
    cancelled = alice_client.post(f"/api/v1/generations/{generation_id}/cancel")
    assert_matches(document, cancelled.json(), "Generation")

    for _ in range(2):
        generation_post(bob_client, count=4)  # 8 of bob's 10 credits
    errors = {
        400: generation_post(alice_client, width=100),
        401: client.get("/api/v1/me"),
        402: generation_post(bob_client, count=4),
        404: bob_client.get(f"/api/v1/generations/{generation_id}"),
        409: alice_client.post(f"/api/v1/generations/{generation_id}/cancel"),
    }
    for status, response in errors.items():
        assert response.status_code == status
        assert_matches(document, response.json(), "Error")


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_paths_answer_in_the_error_shape(
    alice_client: Client, settings: Settings, debug: bool
) -> None:
    settings.DEBUG = debug
    for path in (
        "/api/v1/nothing-here",
        "/api/v1/generations/not-a-uuid",
        "/api/v1/me/",
        "/api/v1/",
        "/api/v2/me",
    ):
        response = alice_client.get(path)

        assert response.status_code == 404, path
        assert response.json() == {
            "error": {
                "code": "not_found",
                "message": "There is no such API endpoint.",
                "field": None,
            }
        }
    assert alice_client.get("/no-such-page/")["Content-Type"].startswith("text/html")


def test_the_docs_page_is_served_with_its_own_copy_of_swagger_ui(client: Client) -> None:
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html
