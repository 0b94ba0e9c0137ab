"""The front page: visitors who are not signed in see what the site does, recently shared images
and the way in; signed-in users get the generate page there."""

import re
from typing import Any

from django.test import Client

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel


def _share_links(html: str) -> list[str]:
    strip = re.search(r'<ul class="landing-strip" id="landing-strip">(.*?)</ul>', html, re.S)
    assert strip, "no strip of shared images"
    return re.findall(r'href="(/s/[^"]+/)"', strip.group(1))


def test_a_visitor_sees_what_the_site_does_and_the_way_in(client: Client, db: None) -> None:
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Type a prompt. Watch it paint." in html
    for point in ("Live painting", "Fair credits", "Your gallery"):
        assert f"<h2>{point}</h2>" in html
    assert "refunded automatically" in html
    assert "New accounts start with 10 free credits." in html
    assert (
        '<a class="button primary" id="landing-signup" href="/accounts/signup/">Sign up</a>' in html
    )
    assert (
        '<a class="button secondary" id="landing-signin" href="/accounts/login/">Sign in</a>'
        in html
    )
    # Nothing shared yet: a friendly word instead of an empty strip.
    assert 'id="landing-empty"' in html
    assert "Nothing has been shared yet." in html
    assert 'id="landing-strip"' not in html
    assert 'id="generate-form"' not in html
    # Only the site's own script files run here too.
    assert "script-src 'self';" in response["Content-Security-Policy"] + ";"
    assert "<script>" not in html
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html


def test_it_shows_the_newest_public_images_and_never_private_ones(
    client: Client, user: Any, other_user: Any, tiny_model: DiffusionModel
) -> None:
    shared = [
        generation_make(
            user=user if n % 2 else other_user,
            model=tiny_model,
            prompt=f"a shared harbour number {n}",
            is_public=True,
            share_token=f"share-token-{n:02d}",
        )
        for n in range(10)
    ]
    private = generation_make(user=user, model=tiny_model, prompt="my secret garden")

    html = client.get("/").content.decode()

    newest_eight = list(reversed(shared))[:8]
    assert _share_links(html) == [f"/s/{g.share_token}/" for g in newest_eight]
    for generation in newest_eight:
        assert f'src="/images/{generation.id}/0.webp"' in html
        assert f'alt="{generation.prompt}"' in html
    assert 'a shared harbour number 1"' not in html  # the two oldest are left for Explore
    assert "my secret garden" not in html
    assert str(private.id) not in html
    assert 'id="landing-empty"' not in html
    assert '<a href="/explore/">See all on Explore</a>' in html


def test_a_signed_in_user_gets_the_generate_page_at_home(
    alice_client: Client, tiny_model: DiffusionModel
) -> None:
    response = alice_client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<form id="generate-form"' in html
    assert 'id="landing-signup"' not in html
    assert "Type a prompt. Watch it paint." not in html
