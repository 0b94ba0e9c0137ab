"""Favourites (a star on a generation, and a filter for them) and the gallery's order, newest
or oldest first, both across pages."""

import re
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation


def prompts(client: Client, url: str) -> list[str]:
    page = client.get(url).content.decode()
    return re.findall(r'<p class="prompt"><a href="[^"]+">([^<]+)</a></p>', page)


def make_in_order(user: Any, model: DiffusionModel, count: int) -> list[Generation]:
    made = []
    start = timezone.now() - timedelta(hours=1)
    for n in range(count):
        generation = generation_make(user=user, model=model, prompt=f"picture {n}")
        Generation.objects.filter(id=generation.id).update(created_at=start + timedelta(minutes=n))
        made.append(generation)
    return made


def test_a_star_is_kept_and_the_filter_shows_only_starred_ones(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    first, second, _ = make_in_order(user, tiny_model, 3)

    plain = alice_client.post(
        f"/gallery/{first.id}/favourite/", {"favourite": "1", "next": "/gallery/?q=picture"}
    )
    assert plain.status_code == 302 and plain["Location"] == "/gallery/?q=picture"
    scripted = alice_client.post(
        f"/gallery/{second.id}/favourite/",
        {"favourite": "1"},
        headers={"Accept": "application/json"},
    )
    assert scripted.json() == {"favourite": True}

    assert prompts(alice_client, "/gallery/?favourites=1") == ["picture 1", "picture 0"]
    assert prompts(alice_client, "/gallery/?favourites=1&q=picture+0") == ["picture 0"]
    page = alice_client.get(f"/gallery/{first.id}/").content.decode()
    assert 'class="favourite" aria-pressed="true"' in page

    alice_client.post(f"/gallery/{first.id}/favourite/", {"favourite": "0"})
    assert prompts(alice_client, "/gallery/?favourites=1") == ["picture 1"]


def test_nobody_stars_somebody_elses_generation(
    bob_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model)

    response = bob_client.post(
        f"/gallery/{generation.id}/favourite/",
        {"favourite": "1"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 404
    generation.refresh_from_db()
    assert generation.favourite is False


def test_oldest_first_pages_through_everything_once_in_order(
    alice_client: Client, user: Any, tiny_model: DiffusionModel, settings: Any
) -> None:
    make_in_order(user, tiny_model, 30)

    first = alice_client.get("/gallery/?order=oldest").content.decode()
    older = re.search(r'href="\?([^"]+)" id="gallery-older"', first)
    assert older is not None
    second_url = "/gallery/?" + older.group(1).replace("&amp;", "&")
    assert "order=oldest" in second_url

    seen = prompts(alice_client, "/gallery/?order=oldest") + prompts(alice_client, second_url)
    assert seen == [f"picture {n}" for n in range(30)]
    assert prompts(alice_client, "/gallery/")[:2] == ["picture 29", "picture 28"]
