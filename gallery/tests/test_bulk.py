"""Many generations at once from the gallery: a zip of exactly the selected pictures, and
deleting them only after a confirmation, never anybody else's."""

import io
import zipfile
from typing import Any

from django.core.files.storage import default_storage
from django.test import Client

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation, GenerationImage


def test_the_zip_holds_the_selected_pictures_under_their_download_names(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    fox = generation_make(user=user, model=tiny_model, prompt="a red fox", images=2, seed=7)
    owl = generation_make(user=user, model=tiny_model, prompt="an owl", seed=9)
    generation_make(user=user, model=tiny_model, prompt="not chosen")

    response = alice_client.post(
        "/gallery/selected/", {"ids": [str(fox.id), str(owl.id)], "action": "download"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="rollerai-2-generations.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == [
        "rollerai-a-red-fox-7.png",
        "rollerai-a-red-fox-8.png",
        "rollerai-an-owl-9.png",
    ]
    first = GenerationImage.objects.get(generation=fox, index=0)
    with default_storage.open(first.image.name) as picture:
        assert archive.read("rollerai-a-red-fox-7.png") == picture.read()


def test_a_selection_with_somebody_elses_generation_does_nothing(
    alice_client: Client, user: Any, other_user: Any, tiny_model: DiffusionModel
) -> None:
    mine = generation_make(user=user, model=tiny_model)
    theirs = generation_make(user=other_user, model=tiny_model)

    for action in ["download", "delete"]:
        response = alice_client.post(
            "/gallery/selected/",
            {"ids": [str(mine.id), str(theirs.id)], "action": action, "confirm": "1"},
            follow=True,
        )
        assert response.status_code == 200
        assert b"Some of the selected generations are gone or not yours." in response.content

    assert Generation.objects.filter(id__in=[mine.id, theirs.id]).count() == 2


def test_nothing_selected_or_a_bad_id_is_a_message_not_an_error(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    empty = alice_client.post("/gallery/selected/", {"action": "delete"}, follow=True)
    assert b"Select at least one generation first." in empty.content
    bad = alice_client.post(
        "/gallery/selected/", {"ids": ["nope"], "action": "delete"}, follow=True
    )
    assert b"The selection is not valid" in bad.content


def test_deleting_asks_first_then_removes_the_rows_and_their_files(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    chosen = [generation_make(user=user, model=tiny_model, prompt=f"pick {n}") for n in range(3)]
    kept = generation_make(user=user, model=tiny_model, prompt="keep me")
    files = [image.image.name for image in GenerationImage.objects.filter(generation__in=chosen)]
    ids = [str(generation.id) for generation in chosen]

    confirm = alice_client.post("/gallery/selected/", {"ids": ids, "action": "delete"})
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Delete 3 generations?" in page
    assert "This cannot be undone." in page
    assert all(f"pick {n}" in page for n in range(3))
    assert Generation.objects.count() == 4

    done = alice_client.post(
        "/gallery/selected/",
        {"ids": ids, "action": "delete", "confirm": "1", "next": "/gallery/"},
        follow=True,
    )

    assert done.redirect_chain == [("/gallery/", 302)]
    assert b"Deleted 3 generations." in done.content
    assert list(Generation.objects.all()) == [kept]
    assert not any(default_storage.exists(name) for name in files)


def test_an_unfinished_generation_in_the_selection_is_kept_and_says_why(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    done = generation_make(user=user, model=tiny_model, prompt="finished")
    queued = generation_make(user=user, model=tiny_model, prompt="still waiting", status="queued")

    response = alice_client.post(
        "/gallery/selected/",
        {"ids": [str(done.id), str(queued.id)], "action": "delete", "confirm": "1"},
        follow=True,
    )

    assert b"Deleted 1 generation." in response.content
    assert (
        "Not deleted: “still waiting”: This generation is still queued."
        in response.content.decode()
    )
    assert list(Generation.objects.all()) == [queued]
