"""/api/v1/openapi.json describes the JSON API as it really answers: a valid OpenAPI 3.1
document, every route documented, and real responses valid against their documented schemas."""

from typing import Any

from django.test import Client
from django.urls import URLPattern
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from generation.models import DiffusionModel
from generation.urls import api_urlpatterns
from rollerai.openapi import DOCUMENT
from testing.api import generation_post


def assert_matches(body: Any, schema_name: str) -> None:
    # The components travel along so that every $ref inside them resolves.
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": DOCUMENT["components"]}
    OAS31Validator(schema).validate(body)


def test_it_is_a_valid_openapi_document_served_without_signing_in(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.json() == DOCUMENT
    validate(response.json())


def test_every_api_route_is_documented() -> None:
    documented = set(DOCUMENT["paths"])
    routes: list[URLPattern] = api_urlpatterns  # type: ignore[assignment]
    for route in routes:
        path = "/" + str(route.pattern).replace("<uuid:generation_id>", "{generation_id}")
        assert path in documented, path
    assert "/me" in documented


def test_real_responses_match_their_schemas(
    alice_client: Client, bob_client: Client, tiny_model: DiffusionModel, client: Client
) -> None:
    assert_matches(alice_client.get("/api/v1/me").json(), "Me")
    for model in alice_client.get("/api/v1/models").json()["results"]:
        assert_matches(model, "Model")
    created = generation_post(alice_client, count=2)
    assert created.status_code == 202
    assert_matches(created.json(), "Generation")
    generation_id = created.json()["id"]
    assert_matches(alice_client.get(f"/api/v1/generations/{generation_id}").json(), "Generation")
    assert_matches(alice_client.get("/api/v1/generations?limit=1").json(), "GenerationPage")
    cancelled = alice_client.post(f"/api/v1/generations/{generation_id}/cancel")
    assert_matches(cancelled.json(), "Generation")

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
        assert_matches(response.json(), "Error")


def test_unknown_api_paths_answer_in_the_error_shape(alice_client: Client) -> None:
    for path in ("/api/v1/nothing-here", "/api/v1/generations/not-a-uuid"):
        response = alice_client.get(path)

        assert response.status_code == 404
        assert response.json() == {
            "error": {
                "code": "not_found",
                "message": "There is no such API endpoint.",
                "field": None,
            }
        }
    assert alice_client.get("/no-such-page/")["Content-Type"].startswith("text/html")
