"""Deleting a generation: asked to confirm first, then its files leave storage with the row;
unfinished ones are refused (their worker may still write files); no refund."""

from typing import Any

from django.core.files.storage import default_storage
from django.test import Client

from billing.selectors import balance_for
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation, GenerationImage


def _files(generation: Generation) -> list[str]:
    return [
        name
        for image in GenerationImage.objects.filter(generation=generation)
        for name in (image.image.name, image.thumbnail.name)
    ]


def test_the_page_asks_first_then_deletes_the_row_and_the_files(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, images=2)
    files = _files(generation)
    assert len(files) == 4
    assert all(default_storage.exists(name) for name in files)
    balance = balance_for(user)

    confirm = alice_client.get(f"/gallery/{generation.id}/delete/")
    assert confirm.status_code == 200
    assert b"Delete this generation?" in confirm.content
    assert Generation.objects.filter(id=generation.id).exists()

    deleted = alice_client.post(f"/gallery/{generation.id}/delete/", follow=True)

    assert deleted.redirect_chain == [("/gallery/", 302)]
    assert b"The generation and its images were deleted." in deleted.content
    assert not Generation.objects.filter(id=generation.id).exists()
    assert not GenerationImage.objects.filter(generation_id=generation.id).exists()
    assert not any(default_storage.exists(name) for name in files)
    assert not default_storage.exists(f"generations/{generation.id}")
    assert balance_for(user) == balance
    assert alice_client.get(f"/images/{generation.id}/0.png").status_code == 404


def test_the_api_deletes_with_204(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model)
    files = _files(generation)

    response = alice_client.delete(f"/api/v1/generations/{generation.id}")

    assert response.status_code == 204
    assert response.content == b""
    assert not any(default_storage.exists(name) for name in files)
    again = alice_client.delete(f"/api/v1/generations/{generation.id}")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"


def test_a_failed_or_cancelled_generation_can_be_deleted(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    for status in ("failed", "canceled"):
        generation = generation_make(user=user, model=tiny_model, status=status)
        assert alice_client.delete(f"/api/v1/generations/{generation.id}").status_code == 204


def test_an_unfinished_generation_is_refused_with_409(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    for status in ("queued", "running"):
        generation = generation_make(user=user, model=tiny_model, status=status)

        api = alice_client.delete(f"/api/v1/generations/{generation.id}")
        page = alice_client.post(f"/gallery/{generation.id}/delete/", follow=True)

        assert api.status_code == 409
        assert api.json()["error"] == {
            "code": "not_finished",
            "message": f"This generation is still {status}. Cancel it, or wait for it to "
            "finish, before deleting it.",
            "field": None,
        }
        assert page.redirect_chain == [(f"/gallery/{generation.id}/", 302)]
        assert f"This generation is still {status}.".encode() in page.content
        assert Generation.objects.filter(id=generation.id).exists()


def test_a_cookie_session_needs_the_csrf_token_to_delete(
    user: Any, tiny_model: DiffusionModel
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    generation = generation_make(user=user, model=tiny_model)

    api = client.delete(f"/api/v1/generations/{generation.id}")
    page = client.post(f"/gallery/{generation.id}/delete/")

    assert api.status_code == 403
    assert api.json()["error"]["code"] == "csrf_failed"
    assert page.status_code == 403
    assert Generation.objects.filter(id=generation.id).exists()


def test_an_api_key_can_delete(user: Any, tiny_model: DiffusionModel) -> None:
    from accounts.services import api_key_create

    _, key = api_key_create(user=user, name="script")
    generation = generation_make(user=user, model=tiny_model)

    response = Client().delete(
        f"/api/v1/generations/{generation.id}", headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 204
    assert not Generation.objects.filter(id=generation.id).exists()
