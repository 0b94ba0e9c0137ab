"""A generation's own page: its images, every parameter, timings and credits, and downloading
the original PNG under a name that says what it is."""

import re
from datetime import timedelta
from typing import Any

from django.test import Client

from gallery.tests.factories import PNG_BYTES, generation_make
from generation.models import DiffusionModel


def test_the_page_shows_the_full_images_and_every_parameter(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(
        user=user,
        model=tiny_model,
        prompt="a lighthouse at dawn",
        negative_prompt="blurry, fog",
        seed=777,
        images=2,
    )
    generation.started_at = generation.created_at + timedelta(seconds=2.5)
    generation.finished_at = generation.started_at + timedelta(seconds=12)
    generation.save()

    response = alice_client.get(f"/gallery/{generation.id}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert f'<img src="/images/{generation.id}/0.png"' in html
    assert f'<img src="/images/{generation.id}/1.png"' in html
    for label, value in [
        ("Prompt", "a lighthouse at dawn"),
        ("Negative prompt", "blurry, fog"),
        ("Model", "Tiny demo"),
        ("Size", "64\N{MULTIPLICATION SIGN}64, 2 images"),
        ("Steps", "4"),
        ("Guidance", "7.5"),
        ("Seed", "777"),
        ("Waited", "2.5 s"),
        ("Ran", "12.0 s"),
        ("Credits", "2"),
    ]:
        assert re.search(f"<dt>{label}</dt><dd[^>]*>{re.escape(value)}</dd>", html), label
    assert f'href="/?remix={generation.id}"' in html
    assert f'href="/?remix={generation.id}&amp;same_seed=1"' in html


def test_download_gives_the_original_png_with_a_sensible_name(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(
        user=user,
        model=tiny_model,
        prompt="A Lighthouse, at dawn! With gulls circling over the stormy sea and more words",
        seed=42,
        images=2,
    )

    first = alice_client.get(f"/images/{generation.id}/0.png?download=1")
    second = alice_client.get(f"/images/{generation.id}/1.png?download=1")

    assert first.status_code == 200
    assert first["Content-Type"] == "image/png"
    assert first["Content-Disposition"] == (
        'attachment; filename="rollerai-a-lighthouse-at-dawn-with-gulls-circling-42.png"'
    )
    assert b"".join(first.streaming_content) == PNG_BYTES + b"0"
    assert second["Content-Disposition"] == (
        'attachment; filename="rollerai-a-lighthouse-at-dawn-with-gulls-circling-43.png"'
    )


def test_a_prompt_without_latin_letters_still_downloads_with_a_name(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, prompt="灯台と夜明け", seed=5)

    response = alice_client.get(f"/images/{generation.id}/0.png?download=1")

    assert response["Content-Disposition"] == 'attachment; filename="rollerai-image-5.png"'


def test_an_unfinished_generation_shows_its_progress_and_cannot_be_deleted_yet(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, status="running", progress_step=2)

    html = alice_client.get(f"/gallery/{generation.id}/").content.decode()

    assert 'data-status="running"' in html
    assert '<progress class="progress" max="4" value="2">' in html
    assert 'id="delete"' not in html
    assert 'id="make-public"' not in html
