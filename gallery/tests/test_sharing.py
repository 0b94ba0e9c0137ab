"""Sharing: making a generation public or private from its page and the API, the public share
page with its link preview, and Explore."""

import json
import re
from typing import Any

import pytest
from django.test import Client

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation


def _og(html: str, name: str) -> str:
    match = re.search(f'<meta property="og:{name}" content="([^"]*)">', html)
    assert match, name
    return match.group(1)


def test_making_it_public_on_its_page_shows_the_share_link(
    alice_client: Client, client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model)

    page = alice_client.post(f"/gallery/{generation.id}/visibility/", {"public": "1"}, follow=True)
    generation.refresh_from_db()

    share_url = f"http://testserver/s/{generation.share_token}/"
    assert page.redirect_chain == [(f"/gallery/{generation.id}/", 302)]
    assert b"It is public now: anyone with the share link can see it." in page.content
    assert f'value="{share_url}"'.encode() in page.content
    assert b'id="make-private"' in page.content
    assert client.get(share_url).status_code == 200

    private = alice_client.post(
        f"/gallery/{generation.id}/visibility/", {"public": "0"}, follow=True
    )
    assert b"It is private now: only you can see it." in private.content
    assert share_url.encode() not in private.content
    assert client.get(share_url).status_code == 404


def test_the_share_page_has_open_graph_tags_for_link_previews(
    alice_client: Client, client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, prompt="a lighthouse at dawn")
    share_url = alice_client.patch(
        f"/api/v1/generations/{generation.id}",
        data=json.dumps({"public": True}),
        content_type="application/json",
    ).json()["share_url"]

    html = client.get(share_url).content.decode()

    assert _og(html, "title") == "a lighthouse at dawn"
    assert _og(html, "url") == share_url
    assert _og(html, "description").startswith(
        "Made with RollerAI · Tiny demo · 64\N{MULTIPLICATION SIGN}64"
    )
    og_image = _og(html, "image")
    assert og_image == f"http://testserver/images/{generation.id}/0.png"
    # Whoever fetches the preview is not signed in.
    assert client.get(og_image.removeprefix("http://testserver")).status_code == 200
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_only_a_succeeded_generation_can_be_made_public(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    for status in ("queued", "running", "failed", "canceled"):
        generation = generation_make(user=user, model=tiny_model, status=status)
        response = alice_client.patch(
            f"/api/v1/generations/{generation.id}",
            data=json.dumps({"public": True}),
            content_type="application/json",
        )
        assert response.status_code == 409
        assert response.json()["error"] == {
            "code": "not_succeeded",
            "message": "Only a generation that has succeeded can be shared.",
            "field": None,
        }
        assert not Generation.objects.get(id=generation.id).is_public


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"public": "yes"}, "invalid", "public"),
        ({}, "invalid", "public"),
        ({"public": True, "prompt": "changed"}, "unknown_field", "prompt"),
        ([True], "invalid_body", None),
    ],
)
def test_patch_accepts_only_a_boolean_public_flag(
    alice_client: Client,
    user: Any,
    tiny_model: DiffusionModel,
    body: Any,
    code: str,
    field: str | None,
) -> None:
    generation = generation_make(user=user, model=tiny_model)

    response = alice_client.patch(
        f"/api/v1/generations/{generation.id}",
        data=json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["field"] == field
    assert not Generation.objects.get(id=generation.id).is_public


def test_explore_lists_recent_public_generations_to_anyone(
    alice_client: Client, client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    shared = [generation_make(user=user, model=tiny_model, prompt=f"shared {n}") for n in range(3)]
    generation_make(user=user, model=tiny_model, prompt="kept to myself")
    for generation in shared:
        alice_client.post(f"/gallery/{generation.id}/visibility/", {"public": "1"})

    html = client.get("/explore/").content.decode()

    assert "kept to myself" not in html
    found = re.findall(r'<p class="prompt"><a href="/s/([^/]+)/">([^<]+)</a>', html)
    assert [prompt for _, prompt in found] == ["shared 2", "shared 1", "shared 0"]
    for token, _ in found:
        assert client.get(f"/s/{token}/").status_code == 200
    assert ".png" not in html


def test_explore_pages_through_many_with_a_cursor(
    client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    for n in range(30):
        generation_make(
            user=user,
            model=tiny_model,
            prompt=f"shared {n}",
            images=0,
            is_public=True,
            share_token=f"token-{n}",
        )

    first = client.get("/explore/").content.decode()
    older = re.search(r'href="\?cursor=([^"]+)" rel="next"', first)
    assert older
    second = client.get(f"/explore/?cursor={older.group(1)}").content.decode()

    prompts = re.findall(r'">(shared \d+)</a>', first) + re.findall(r'">(shared \d+)</a>', second)
    assert prompts == [f"shared {n}" for n in reversed(range(30))]
