"""Keyset pagination of the gallery page and the API list: with thousands of generations, pages
are disjoint, complete and newest first, and every page costs the same number of queries."""

import re
from typing import Any

import pytest
from django.test import Client

from gallery.tests.factories import generations_bulk_make
from gallery.views import GALLERY_PAGE_SIZE
from generation.models import DiffusionModel, Generation

GENERATIONS = 3000
# Session, user, header balance, the page, its images, the model filter's choices.
GALLERY_PAGE_QUERIES = 6
# Session, user, the page, its images.
API_PAGE_QUERIES = 4
CARD_ID = re.compile(rb'class="generation gallery-item" data-id="([0-9a-f-]{36})"')
OLDER_LINK = re.compile(rb'href="\?([^"]*cursor=[^"]+)" id="gallery-older"')


@pytest.fixture
def many(user: Any, tiny_model: DiffusionModel) -> list[str]:
    """The user's generations, newest first; a run of them share one timestamp, so that the id
    has to break ties, also across page boundaries."""
    generations = generations_bulk_make(user=user, model=tiny_model, count=GENERATIONS)
    tied = [generation.id for generation in generations[1000:1100]]
    Generation.objects.filter(id__in=tied).update(created_at=generations[1000].created_at)
    return [
        str(generation_id)
        for generation_id in Generation.objects.filter(user=user)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    ]


def test_gallery_pages_are_disjoint_complete_ordered_and_cost_constant_queries(
    alice_client: Client,
    many: list[str],
    other_user: Any,
    tiny_model: DiffusionModel,
    django_assert_num_queries: Any,
) -> None:
    # Somebody else's generations never show up in alice's pages.
    generations_bulk_make(user=other_user, model=tiny_model, count=50)
    seen: list[str] = []
    query = ""
    pages = 0
    while True:
        with django_assert_num_queries(GALLERY_PAGE_QUERIES):
            response = alice_client.get(f"/gallery/?{query}")
        assert response.status_code == 200
        page = [match.decode() for match in CARD_ID.findall(response.content)]
        assert len(page) == GALLERY_PAGE_SIZE or not OLDER_LINK.search(response.content)
        seen += page
        pages += 1
        older = OLDER_LINK.search(response.content)
        if older is None:
            break
        query = older.group(1).decode().replace("&amp;", "&")

    assert pages == -(-GENERATIONS // GALLERY_PAGE_SIZE)
    assert len(seen) == len(set(seen))
    assert seen == many


def test_api_pages_are_disjoint_complete_ordered_and_cost_constant_queries(
    alice_client: Client, many: list[str], django_assert_num_queries: Any
) -> None:
    seen: list[str] = []
    url = "/api/v1/generations?limit=100"
    while True:
        with django_assert_num_queries(API_PAGE_QUERIES):
            page = alice_client.get(url).json()
        seen += [generation["id"] for generation in page["results"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/generations?limit=100&cursor={page['next_cursor']}"

    assert len(seen) == len(set(seen)) == GENERATIONS
    assert seen == many


def test_a_page_shows_thumbnails_only_never_originals(
    alice_client: Client, many: list[str]
) -> None:
    content = alice_client.get("/gallery/").content

    assert len(re.findall(rb'<img src="/images/[0-9a-f-]{36}/0\.webp"', content)) == 24
    assert b".png" not in content


def test_a_tampered_cursor_is_refused(alice_client: Client, many: list[str]) -> None:
    page = alice_client.get("/gallery/?cursor=bm90IGEgY3Vyc29y")
    api = alice_client.get("/api/v1/generations?cursor=bm90IGEgY3Vyc29y")

    assert page.status_code == 400
    assert b"The cursor is not valid." in page.content
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "invalid_cursor"
