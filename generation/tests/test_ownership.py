"""A generation and its images belong to their owner: everybody else gets 404, never a hint."""

from typing import Any

import pytest
from django.test import Client

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation


@pytest.fixture
def alice_generation(user: Any, tiny_model: DiffusionModel) -> Generation:
    return generation_make(user=user, model=tiny_model, prompt="my secret")


def test_the_owner_can_read_it(alice_client: Client, alice_generation: Generation) -> None:
    assert alice_client.get(f"/api/v1/generations/{alice_generation.id}").status_code == 200
    assert alice_client.get(f"/images/{alice_generation.id}/0.png").status_code == 200
    assert alice_client.get(f"/images/{alice_generation.id}/0.webp").status_code == 200


def test_another_user_gets_404_from_the_api(
    bob_client: Client, alice_generation: Generation
) -> None:
    response = bob_client.get(f"/api/v1/generations/{alice_generation.id}")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No such generation.", "field": None}
    }


def test_another_user_gets_404_for_the_images(
    bob_client: Client, client: Client, alice_generation: Generation
) -> None:
    for url in (f"/images/{alice_generation.id}/0.png", f"/images/{alice_generation.id}/0.webp"):
        assert bob_client.get(url).status_code == 404
        assert client.get(url).status_code == 404


def test_another_users_list_does_not_include_it(
    bob_client: Client, alice_client: Client, alice_generation: Generation
) -> None:
    assert bob_client.get("/api/v1/generations").json() == {"results": [], "next_cursor": None}
    [listed] = alice_client.get("/api/v1/generations").json()["results"]
    assert listed["id"] == str(alice_generation.id)


def test_an_unknown_id_is_404(alice_client: Client, tiny_model: DiffusionModel) -> None:
    response = alice_client.get("/api/v1/generations/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
