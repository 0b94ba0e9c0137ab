"""Who may see and change a generation: its owner always; anybody else nothing of a private one
(404, never a hint), and only the share page and the images of a public one."""

import json
from typing import Any

import pytest
from django.test import Client

from gallery.tests.factories import PNG_BYTES, generation_make
from generation.models import DiffusionModel, Generation


@pytest.fixture
def private(user: Any, tiny_model: DiffusionModel) -> Generation:
    return generation_make(user=user, model=tiny_model, prompt="my secret garden")


def _patch(client: Client, generation: Generation, public: bool) -> Any:
    return client.patch(
        f"/api/v1/generations/{generation.id}",
        data=json.dumps({"public": public}),
        content_type="application/json",
    )


def _other_users_urls(generation: Generation) -> list[str]:
    return [
        f"/gallery/{generation.id}/",
        f"/gallery/{generation.id}/delete/",
        f"/images/{generation.id}/0.png",
        f"/images/{generation.id}/0.png?download=1",
        f"/images/{generation.id}/0.webp",
    ]


def test_another_user_gets_404_for_a_private_generation_everywhere(
    bob_client: Client, private: Generation
) -> None:
    for url in _other_users_urls(private):
        assert bob_client.get(url).status_code == 404, url
    api = bob_client.get(f"/api/v1/generations/{private.id}")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
    assert bob_client.get("/api/v1/generations").json()["results"] == []
    assert b"my secret garden" not in bob_client.get("/gallery/").content


def test_an_anonymous_visitor_gets_404_for_private_images_and_is_sent_to_sign_in_for_pages(
    client: Client, private: Generation
) -> None:
    for url in _other_users_urls(private)[2:]:
        assert client.get(url).status_code == 404, url
    page = client.get(f"/gallery/{private.id}/")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")
    assert client.get(f"/api/v1/generations/{private.id}").status_code == 401


def test_a_private_generation_has_no_working_share_link(
    alice_client: Client, client: Client, private: Generation
) -> None:
    _patch(alice_client, private, True)
    _patch(alice_client, private, False)
    private.refresh_from_db()

    assert private.share_token
    assert client.get(f"/s/{private.share_token}/").status_code == 404
    assert client.get(f"/images/{private.id}/0.png").status_code == 404


def test_once_public_anyone_can_view_it_through_the_share_link_but_not_change_it(
    alice_client: Client, bob_client: Client, client: Client, private: Generation
) -> None:
    published = _patch(alice_client, private, True)
    assert published.status_code == 200
    share_url = published.json()["share_url"]
    assert published.json()["is_public"] is True
    assert share_url.startswith("http://testserver/s/")

    for visitor in (bob_client, client):
        page = visitor.get(share_url)
        assert page.status_code == 200
        assert b"my secret garden" in page.content
        image = visitor.get(f"/images/{private.id}/0.png")
        assert image.status_code == 200
        assert b"".join(image.streaming_content) == PNG_BYTES + b"0"
        assert visitor.get(f"/images/{private.id}/0.webp").status_code == 200

    # Viewing is all: no other user can delete it, change it or see it as their own.
    assert bob_client.delete(f"/api/v1/generations/{private.id}").status_code == 404
    assert _patch(bob_client, private, False).status_code == 404
    assert bob_client.get(f"/api/v1/generations/{private.id}").status_code == 404
    assert bob_client.get(f"/gallery/{private.id}/").status_code == 404
    assert bob_client.post(f"/gallery/{private.id}/delete/").status_code == 404
    assert bob_client.post(f"/gallery/{private.id}/visibility/", {"public": "0"}).status_code == 404
    assert client.delete(f"/api/v1/generations/{private.id}").status_code == 401
    assert client.post(f"/gallery/{private.id}/delete/").status_code == 302
    private.refresh_from_db()
    assert private.is_public
    assert Generation.objects.filter(id=private.id).exists()


def test_sharing_again_makes_a_new_link_and_the_revoked_one_stays_dead(
    alice_client: Client, client: Client, private: Generation
) -> None:
    first = _patch(alice_client, private, True).json()["share_url"]
    assert _patch(alice_client, private, False).json()["share_url"] is None
    assert client.get(first).status_code == 404
    again = _patch(alice_client, private, True).json()["share_url"]

    assert again != first
    assert client.get(first).status_code == 404
    assert client.get(again).status_code == 200


def test_making_a_public_generation_public_again_keeps_its_link(
    alice_client: Client, private: Generation
) -> None:
    first = _patch(alice_client, private, True).json()["share_url"]

    assert _patch(alice_client, private, True).json()["share_url"] == first


def test_share_tokens_are_long_and_random(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    tokens = set()
    for n in range(5):
        generation = generation_make(user=user, model=tiny_model, prompt=f"p{n}")
        tokens.add(_patch(alice_client, generation, True).json()["share_url"].split("/")[-2])

    assert len(tokens) == 5
    assert all(len(token) >= 22 for token in tokens)
