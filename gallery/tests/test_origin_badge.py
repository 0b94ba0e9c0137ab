"""Generations made through the Discord bot are marked "from Discord" in the gallery and on their
own page; those made on the site or with the API are not marked."""

from typing import Any

from django.test import Client

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation

BADGE = '<span class="badge origin-badge">from Discord</span>'


def test_the_gallery_marks_only_the_generation_made_from_discord(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    from_discord = generation_make(
        user=user, model=tiny_model, prompt="a dragon over the harbour", origin="discord"
    )
    from_web = generation_make(user=user, model=tiny_model, prompt="a quiet meadow")

    html = alice_client.get("/gallery/").content.decode()

    assert BADGE in card(html, from_discord)
    assert BADGE not in card(html, from_web)


def test_the_page_of_a_generation_made_from_discord_says_so(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, origin="discord")

    response = alice_client.get(f"/gallery/{generation.id}/")

    assert response.status_code == 200
    assert BADGE in response.content.decode()


def test_the_page_of_a_generation_made_on_the_site_has_no_badge(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    for origin in ("web", "api"):
        generation = generation_make(user=user, model=tiny_model, origin=origin)

        html = alice_client.get(f"/gallery/{generation.id}/").content.decode()

        assert "origin-badge" not in html, origin
        assert "from Discord" not in html, origin


def card(html: str, generation: Generation) -> str:
    start = html.index(f'data-id="{generation.id}"')
    return html[start : html.index("</article>", start)]
