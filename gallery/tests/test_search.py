"""Searching prompts and filtering by model and status, on the gallery page and in the API:
exactly the matching generations come back, newest first."""

import re
from typing import Any

import pytest
from django.test import Client

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation

CARD_ID = re.compile(rb'class="generation gallery-item" data-id="([0-9a-f-]{36})"')


@pytest.fixture
def other_model(db: None) -> DiffusionModel:
    return DiffusionModel.objects.create(slug="other", name="Other model", source="other")


@pytest.fixture
def made(
    user: Any, other_user: Any, tiny_model: DiffusionModel, other_model: DiffusionModel
) -> dict[str, Generation]:
    rows = {
        "lighthouse": ("A Lighthouse at dawn", tiny_model, "succeeded"),
        "lighthouse_storm": ("lighthouse in a storm, oil painting", other_model, "succeeded"),
        "failed_lighthouse": ("a lighthouse, failed", tiny_model, "failed"),
        "cat": ("a cat on a windowsill", tiny_model, "succeeded"),
        "percent": ("100% orange_juice", other_model, "canceled"),
        "queued_cat": ("a sleepy cat", other_model, "queued"),
    }
    made = {
        name: generation_make(user=user, model=model, prompt=prompt, status=status)
        for name, (prompt, model, status) in rows.items()
    }
    # Another user's matching generation is never found.
    generation_make(user=other_user, model=tiny_model, prompt="a lighthouse of bob's")
    return made


def _api_ids(client: Client, query: str) -> list[str]:
    response = client.get(f"/api/v1/generations?{query}")
    assert response.status_code == 200, response.content
    return [generation["id"] for generation in response.json()["results"]]


def _page_ids(client: Client, query: str) -> list[str]:
    response = client.get(f"/gallery/?{query}")
    assert response.status_code == 200
    return [match.decode() for match in CARD_ID.findall(response.content)]


def _newest_first(made: dict[str, Generation], *names: str) -> list[str]:
    chosen = sorted((made[name] for name in names), key=lambda g: (g.created_at, g.id))
    return [str(generation.id) for generation in reversed(chosen)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=lighthouse", ["lighthouse", "lighthouse_storm", "failed_lighthouse"]),
        ("q=LIGHTHOUSE+dawn", ["lighthouse"]),
        ("q=dawn+lighthouse", ["lighthouse"]),
        ("q=cat", ["cat", "queued_cat"]),
        ("q=%25", ["percent"]),
        ("q=_", ["percent"]),
        ("q=zebra", []),
        ("model=other", ["lighthouse_storm", "percent", "queued_cat"]),
        ("model=no-such-model", []),
        ("status=failed", ["failed_lighthouse"]),
        ("status=queued", ["queued_cat"]),
        ("q=lighthouse&model=tiny-demo", ["lighthouse", "failed_lighthouse"]),
        ("q=lighthouse&status=succeeded", ["lighthouse", "lighthouse_storm"]),
        ("q=cat&model=other&status=queued", ["queued_cat"]),
        ("q=cat&model=tiny-demo&status=queued", []),
        (
            "",
            ["lighthouse", "lighthouse_storm", "failed_lighthouse", "cat", "percent", "queued_cat"],
        ),
    ],
)
def test_search_and_filters_return_exactly_the_matching_generations(
    alice_client: Client, made: dict[str, Generation], query: str, expected: list[str]
) -> None:
    assert _api_ids(alice_client, query) == _newest_first(made, *expected)
    assert _page_ids(alice_client, query) == _newest_first(made, *expected)


def test_filters_carry_over_to_the_next_page(
    alice_client: Client, user: Any, tiny_model: DiffusionModel, made: dict[str, Generation]
) -> None:
    for n in range(30):
        generation_make(user=user, model=tiny_model, prompt=f"lighthouse number {n}", images=0)

    first = alice_client.get("/gallery/?q=lighthouse&status=succeeded")
    older = re.search(rb'href="\?([^"]*)" id="gallery-older"', first.content)
    assert older is not None
    second = alice_client.get("/gallery/?" + older.group(1).decode().replace("&amp;", "&"))

    ids = CARD_ID.findall(first.content) + CARD_ID.findall(second.content)
    assert len(ids) == len(set(ids)) == 32
    assert b'id="gallery-older"' not in second.content


def test_an_unknown_status_is_a_clear_error(
    alice_client: Client, made: dict[str, Generation]
) -> None:
    api = alice_client.get("/api/v1/generations?status=done")
    page = alice_client.get("/gallery/?status=done")

    assert api.status_code == 400
    assert api.json()["error"] == {
        "code": "invalid_choice",
        "message": "'status' must be one of: queued, running, succeeded, failed, canceled.",
        "field": "status",
    }
    assert page.status_code == 400
    assert b"&#x27;status&#x27; must be one of" in page.content


def test_the_search_uses_the_trigram_index_on_postgresql(
    alice_client: Client, made: dict[str, Generation]
) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("The trigram index exists on PostgreSQL only.")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        query = Generation.objects.filter(prompt__icontains="lighthouse").explain()
        cursor.execute("RESET enable_seqscan")

    assert "generation_prompt_trigram" in query
