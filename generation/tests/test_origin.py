"""Every generation records the front door it came in by: the site's pages (a browser session),
the JSON API (an API key) or the Discord bot; the API answers with it."""

from django.contrib.auth.models import User
from django.test import Client

from accounts.services import api_key_create
from generation.models import DiffusionModel, Generation
from generation.schemas import GenerationRequest
from generation.services import generation_submit
from testing.api import generation_submitted

BADGE = '<span class="badge origin-badge">from Discord</span>'


def test_a_submit_with_an_api_key_is_recorded_as_from_the_api(
    client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    _, key = api_key_create(user=user, name="render script")
    bearer = {"Authorization": f"Bearer {key}"}

    generation_id = generation_submitted(client, headers=bearer)

    assert Generation.objects.get(id=generation_id).origin == "api"
    detail = client.get(f"/api/v1/generations/{generation_id}", headers=bearer)
    assert detail.json()["origin"] == "api"
    listed = client.get("/api/v1/generations", headers=bearer).json()["results"]
    assert [(item["id"], item["origin"]) for item in listed] == [(generation_id, "api")]


def test_a_submit_from_the_browser_session_is_recorded_as_from_the_web(
    alice_client: Client, tiny_model: DiffusionModel
) -> None:
    generation_id = generation_submitted(alice_client)

    assert Generation.objects.get(id=generation_id).origin == "web"
    assert alice_client.get(f"/api/v1/generations/{generation_id}").json()["origin"] == "web"


def test_an_api_key_counts_even_when_the_browser_is_also_signed_in(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    _, key = api_key_create(user=user, name="console")

    generation_id = generation_submitted(alice_client, headers={"Authorization": f"Bearer {key}"})

    assert Generation.objects.get(id=generation_id).origin == "api"


def test_a_generation_submitted_for_discord_says_so_in_the_api(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation = generation_submit(
        user=user,
        data=GenerationRequest(prompt="a lighthouse at dawn"),
        origin=Generation.Origin.DISCORD,
    )

    generation.refresh_from_db()
    assert generation.origin == "discord"
    assert alice_client.get(f"/api/v1/generations/{generation.id}").json()["origin"] == "discord"


def test_the_generate_page_marks_recent_generations_made_from_discord(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    from_discord = generation_submit(
        user=user,
        data=GenerationRequest(prompt="a dragon over the harbour"),
        origin=Generation.Origin.DISCORD,
    )
    from_web = generation_submit(user=user, data=GenerationRequest(prompt="a quiet meadow"))

    html = alice_client.get("/").content.decode()

    assert BADGE in card(html, from_discord)
    assert BADGE not in card(html, from_web)


def card(html: str, generation: Generation) -> str:
    start = html.index(f'<article class="generation" data-id="{generation.id}"')
    return html[start : html.index("</article>", start)]
