"""In a real browser: open the gallery, open a generation, remix it, and watch the new one appear
at the top of the gallery (open in another tab, never reloaded) and of the generate page, live."""

from typing import Any

import pytest
from django.test import Client

from conftest import ARTIFACTS_DIR, PASSWORD
from generation.models import Generation
from testing.api import generation_post
from testing.processes import RunningProcess
from testing.waiting import generation_wait


@pytest.mark.browser
def test_remixing_from_the_gallery_shows_the_new_generation_at_the_top_live(
    web_server: str,
    gpu_worker: RunningProcess,
    browser_page: Any,
    alice_client: Client,
) -> None:
    original_id = generation_post(
        alice_client, prompt="a red kite over the hills", width=96, height=64, steps=6, seed=4242
    ).json()["id"]
    original = generation_wait(original_id, "succeeded", "failed", timeout=120)
    assert original.status == "succeeded", original.error

    page = browser_page
    page.goto(f"{web_server}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{web_server}/")

    # The gallery stays open in its own tab, signed in as the same user, for the whole test.
    other_tab = page.context.browser.new_context()
    other_tab.add_cookies(page.context.cookies())
    gallery = other_tab.new_page()
    gallery.goto(f"{web_server}/gallery/")
    gallery.wait_for_selector("#live-status[data-state=open]")
    gallery.evaluate("window.pageLoadMarker = 'never reloaded'")
    thumbnail = gallery.wait_for_selector(f'.gallery-item[data-id="{original_id}"] img')
    gallery.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail)
    assert thumbnail.get_attribute("src") == f"/images/{original_id}/0.webp"

    # Open it from the gallery, then remix it with the same seed.
    page.goto(f"{web_server}/gallery/")
    page.click(f'.gallery-item[data-id="{original_id}"] .thumb')
    page.wait_for_url(f"{web_server}/gallery/{original_id}/")
    assert "a red kite over the hills" in page.inner_text(".parameters")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "gallery-detail.png"), full_page=True)
    page.click("#remix-same-seed")
    page.wait_for_url(f"{web_server}/?remix={original_id}&same_seed=1")
    assert page.input_value("#prompt") == "a red kite over the hills"
    assert [page.input_value(f"#{name}") for name in ("width", "height", "steps", "seed")] == [
        "96",
        "64",
        "6",
        "4242",
    ]
    page.wait_for_selector("#live-status[data-state=open]")
    page.click("#generate")

    gallery.wait_for_function(
        "id => document.querySelector('.gallery-item').dataset.id !== id", arg=original_id
    )
    new_id = gallery.get_attribute(".gallery-item:first-child", "data-id")
    newest = gallery.wait_for_selector(
        f'.gallery-item:first-child[data-id="{new_id}"][data-status=succeeded] .thumb img',
        timeout=120_000,
    )
    gallery.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=newest)
    assert gallery.evaluate("window.pageLoadMarker") == "never reloaded"
    assert gallery.inner_text(".gallery-item:first-child .status") == "Succeeded"
    assert gallery.inner_text(".gallery-item:first-child .detail") == "Tiny demo"
    assert gallery.get_attribute(".gallery-item:nth-child(2)", "data-id") == original_id
    assert newest.get_attribute("src") == f"/images/{new_id}/0.webp"
    page.wait_for_selector(f'.generation[data-id="{new_id}"][data-status=succeeded]')
    assert page.get_attribute("#generations .generation:first-child", "data-id") == new_id
    gallery.screenshot(path=str(ARTIFACTS_DIR / "gallery.png"), full_page=True)

    remix = Generation.objects.get(id=new_id)
    assert (remix.prompt, remix.width, remix.height, remix.steps, remix.seed) == (
        original.prompt,
        original.width,
        original.height,
        original.steps,
        original.seed,
    )
