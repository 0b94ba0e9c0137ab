"""GET /api/v1/generations: the user's own generations, newest first, page after page."""

from typing import Any

from django.test import Client

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel


def test_pages_are_newest_first_disjoint_and_complete(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    created = [
        generation_make(user=user, model=tiny_model, prompt=f"prompt {n}", status="queued", seed=n)
        for n in range(7)
    ]

    seen: list[str] = []
    url = "/api/v1/generations?limit=3"
    while True:
        page = alice_client.get(url).json()
        seen += [generation["id"] for generation in page["results"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/generations?limit=3&cursor={page['next_cursor']}"

    assert seen == [str(generation.id) for generation in reversed(created)]


def test_a_bad_cursor_or_limit_is_a_clear_error(alice_client: Client) -> None:
    bad_cursor = alice_client.get("/api/v1/generations?cursor=not-a-cursor")
    bad_limit = alice_client.get("/api/v1/generations?limit=1000")

    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["error"]["code"] == "invalid_cursor"
    assert bad_limit.status_code == 400
    assert bad_limit.json()["error"] == {
        "code": "out_of_range",
        "message": "'limit' must be between 1 and 100.",
        "field": "limit",
    }
