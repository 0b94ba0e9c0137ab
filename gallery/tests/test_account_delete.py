"""Deleting an account takes its generations and their image files with it: by the user, who
confirms by typing their username, or by staff from the admin."""

from typing import Any

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client

from accounts.services import account_create
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation, GenerationImage


def _files_of(user: Any) -> list[str]:
    return [
        name
        for image in GenerationImage.objects.filter(generation__user=user)
        for name in (image.image.name, image.thumbnail.name)
    ]


def test_a_wrong_confirmation_deletes_nothing(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation_make(user=user, model=tiny_model)

    response = alice_client.post("/accounts/delete/", {"confirm_username": "alic"})

    assert response.status_code == 400
    assert b"Type your username exactly as shown to confirm." in response.content
    assert User.objects.filter(username="alice").exists()
    assert Generation.objects.filter(user=user).count() == 1


def test_the_user_deletes_their_account_with_generations_and_files(
    alice_client: Client, user: Any, other_user: Any, tiny_model: DiffusionModel
) -> None:
    for n in range(3):
        generation_make(user=user, model=tiny_model, prompt=f"mine {n}", images=2)
    generation_make(user=user, model=tiny_model, status="queued")
    bobs = generation_make(user=other_user, model=tiny_model)
    files = _files_of(user)
    assert len(files) == 12

    page = alice_client.get("/accounts/")
    assert b'id="delete-account"' in page.content
    response = alice_client.post("/accounts/delete/", {"confirm_username": "alice"}, follow=True)

    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert b"Your account, its generations and their images were deleted." in response.content
    assert not User.objects.filter(username="alice").exists()
    assert not Generation.objects.filter(user_id=user.pk).exists()
    assert not any(default_storage.exists(name) for name in files)
    # Signed out, and nobody else's work is touched.
    assert alice_client.get("/gallery/").status_code == 302
    assert all(default_storage.exists(name) for name in _files_of(other_user))
    assert Generation.objects.filter(id=bobs.id).exists()


def test_staff_delete_accounts_from_the_admin_after_confirming(
    user: Any, other_user: Any, tiny_model: DiffusionModel
) -> None:
    staff = account_create(username="staff", password="x" * 20)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    generation_make(user=user, model=tiny_model, images=2)
    files = _files_of(user)
    form = {"action": "delete_accounts", "_selected_action": [user.pk]}

    confirm = admin.post("/admin/auth/user/", form)
    assert confirm.status_code == 200
    assert b"Delete these accounts with all their generations and image files?" in confirm.content
    assert User.objects.filter(pk=user.pk).exists()

    done = admin.post("/admin/auth/user/", {**form, "confirm": "1"}, follow=True)

    assert b"Deleted alice and their images." in done.content
    assert not User.objects.filter(pk=user.pk).exists()
    assert not any(default_storage.exists(name) for name in files)
    assert User.objects.filter(pk=other_user.pk).exists()


def test_deleting_a_user_on_the_admin_change_page_removes_their_files(
    admin_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation_make(user=user, model=tiny_model, images=2)
    files = _files_of(user)

    response = admin_client.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert files and not any(default_storage.exists(name) for name in files)
