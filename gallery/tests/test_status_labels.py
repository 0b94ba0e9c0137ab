"""A cancelled generation is labelled "Cancelled", the site's one spelling, in the gallery and on
its own page; the status value in the API stays `canceled`."""

from typing import Any

from django.test import Client

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel

BADGE = '<span class="badge status">Cancelled</span>'


def test_the_gallery_labels_a_cancelled_generation_cancelled(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation_make(user=user, model=tiny_model, status="canceled", images=0)

    html = alice_client.get("/gallery/").content.decode()

    assert BADGE in html
    assert "Canceled" not in html


def test_its_page_says_cancelled_and_the_api_keeps_the_status_value(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, status="canceled", images=0)

    html = alice_client.get(f"/gallery/{generation.id}/").content.decode()

    assert BADGE in html
    assert "Canceled" not in html
    assert alice_client.get(f"/api/v1/generations/{generation.id}").json()["status"] == "canceled"
