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
