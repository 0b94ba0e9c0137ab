"""Calling the JSON API from tests as a client would."""

import json
from typing import Any

from django.test import Client


def generation_post(client: Client, headers: dict[str, str] | None = None, **fields: Any) -> Any:
    return client.post(
        "/api/v1/generations",
        data=json.dumps({"prompt": "a lighthouse at dawn", **fields}),
        content_type="application/json",
        headers=headers or {},
    )


def generation_submitted(
    client: Client, headers: dict[str, str] | None = None, **fields: Any
) -> str:
    """Submits a generation the test needs accepted, and returns its id; a refusal fails the test
    there, with the API's answer, rather than later at a missing id."""
    response = generation_post(client, headers, **fields)
    assert response.status_code == 202, response.content
    return str(response.json()["id"])
