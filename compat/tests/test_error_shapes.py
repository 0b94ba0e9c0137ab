"""Refusals made before any endpoint runs (no such endpoint, a body too large, text the database
cannot store) answer in the error shape of the API they were sent to."""

import pytest
from django.test import Client

TOO_LARGE = 7 * 1024 * 1024


@pytest.mark.django_db
def test_openai_paths_refuse_in_openais_shape(client: Client) -> None:
    missing = client.get("/v1/no-such-endpoint")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"

    too_large = client.post(
        "/v1/images/edits", data=b"x" * TOO_LARGE, content_type="application/octet-stream"
    )
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "body_too_large"

    unstorable = client.get("/v1/models?q=%00")
    assert unstorable.status_code == 400
    assert set(unstorable.json()["error"]) == {"message", "type", "param", "code"}


@pytest.mark.django_db
def test_automatic1111_paths_refuse_in_its_shape(client: Client) -> None:
    missing = client.get("/sdapi/v1/no-such-endpoint")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"

    unauthenticated = client.get("/sdapi/v1/sd-models")
    assert unauthenticated.status_code == 401
    assert unauthenticated["WWW-Authenticate"].startswith("Basic")


@pytest.mark.django_db
def test_a_wrong_key_is_refused_before_anything_else(client: Client) -> None:
    openai = client.get("/v1/models", headers={"Authorization": "Bearer rai_wrong"})
    assert openai.status_code == 401
    assert openai.json()["error"]["code"] == "invalid_api_key"
    sdapi = client.get("/sdapi/v1/options", headers={"Authorization": "Basic YTpyYWlfd3Jvbmc="})
    assert sdapi.status_code == 401
