"""In a real browser, with a real worker: from a finished generation in the gallery, press
Variations and Upscale x2, each showing its cost first, and watch the new generations' images
appear at the top of the gallery, live, without a reload; from a generation's own page, the
same presses lead to the generate page, where the new ones are followed live."""

import io
import signal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image

from billing.selectors import balance_for
from conftest import ARTIFACTS_DIR, PASSWORD
from generation.models import Generation
from testing.api import generation_submitted
from testing.browser import browser_sign_in
from testing.processes import RunningProcess
from testing.waiting import generation_wait


def newest_card_after(gallery: Any, known: set[str], timeout: float = 30_000) -> str:
    """The id of the card that appears at the top of the gallery and is none of `known`."""
    gallery.wait_for_function(
        "known => !known.includes(document.querySelector('.gallery-item').dataset.id)",
        arg=sorted(known),
        timeout=timeout,
    )
    return str(gallery.get_attribute(".gallery-item:first-child", "data-id"))


def finished_thumbnail(gallery: Any, generation_id: str) -> Any:
    thumbnail = gallery.wait_for_selector(
        f'.gallery-item[data-id="{generation_id}"][data-status=succeeded] .thumb img',
        timeout=120_000,
    )
    gallery.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail)
    return thumbnail


@pytest.mark.browser
def test_variations_and_an_upscale_from_the_gallery_appear_live(
    web_server: str,
    gpu_worker: RunningProcess,
    browser_page: Any,
    alice_client: Client,
    user: User,
) -> None:
    original_id = generation_submitted(
        alice_client, prompt="a red kite over the hills", width=64, height=64, steps=4
    )
    original = generation_wait(original_id, "succeeded", "failed", timeout=120)
    assert original.status == "succeeded", original.error

    page = browser_page
    page.goto(f"{web_server}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{web_server}/")
    page.goto(f"{web_server}/gallery/")
    page.wait_for_selector("#live-status[data-state=open]")
    page.evaluate("window.pageLoadMarker = 'never reloaded'")
    card = f'.gallery-item[data-id="{original_id}"]'
    finished_thumbnail(page, original_id)

    # The cost is there before pressing, and follows the number of variations.
    assert page.inner_text(f'{card} [data-action="variations"]') == "Variations · 4 credits"
    assert page.inner_text(f'{card} [data-action="upscale"]') == "Upscale x2 · 2 credits"
    page.select_option(f"{card} .variations-count", "2")
    assert page.inner_text(f'{card} [data-action="variations"]') == "Variations · 2 credits"

    page.click(f'{card} [data-action="variations"]')
    variations_id = newest_card_after(page, {original_id})
    finished_thumbnail(page, variations_id)
    assert page.inner_text(".gallery-item:first-child .detail") == (
        "Tiny demo · Variations of an image · 2 images"
    )

    page.click(f'{card} [data-action="upscale"]')
    upscale_id = newest_card_after(page, {original_id, variations_id})
    thumbnail = finished_thumbnail(page, upscale_id)
    assert page.inner_text(".gallery-item:first-child .detail") == "Tiny demo · Upscaled x2"
    # A new card offers the same again.
    assert page.is_visible(f'.gallery-item[data-id="{upscale_id}"] [data-action="upscale"]')
    assert page.evaluate("window.pageLoadMarker") == "never reloaded"
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "gallery-variations.png"), full_page=True)

    variations = Generation.objects.get(id=variations_id)
    upscale = Generation.objects.get(id=upscale_id)
    assert (variations.kind, variations.count, variations.status) == ("variations", 2, "succeeded")
    assert variations.images.count() == 2
    assert (upscale.kind, upscale.width, upscale.height, upscale.status) == (
        "upscale",
        128,
        128,
        "succeeded",
    )
    png = page.request.get(f"{web_server}/images/{upscale_id}/0.png").body()
    assert Image.open(io.BytesIO(png)).size == (128, 128)
    assert thumbnail.get_attribute("src") == f"/images/{upscale_id}/0.webp"
    # 1 for the prompt, 2 x 1 for the variations, 2 for the upscale.
    assert balance_for(user) == 10 - 1 - 2 - 2


def generate_page_card_followed_live(
    page: Any, site: str, worker: RunningProcess, kind: str
) -> str:
    """After a press on a generation's own page: the user lands on the generate page, where the
    new generation of `kind` is on a card while the (paused) worker has not started it; the
    worker then runs it, and its images arrive on that card with no reload. The card's id."""
    page.wait_for_url(f"{site}/")
    created = Generation.objects.get(kind=kind)
    card = f'.generation[data-id="{created.id}"]'
    page.wait_for_selector(f"{card}[data-status=queued]")
    page.wait_for_selector("#live-status[data-state=open]")
    page.evaluate("window.pageLoadMarker = 'never reloaded'")
    worker.process.send_signal(signal.SIGCONT)
    page.wait_for_selector(f"{card}[data-status=succeeded]", timeout=120_000)
    page.wait_for_function(
        "([card, count]) => [...document.querySelectorAll(`${card} .images img`)]"
        ".filter((img) => img.complete && img.naturalWidth > 0).length === count",
        arg=[card, created.count],
        timeout=30_000,
    )
    assert page.evaluate("window.pageLoadMarker") == "never reloaded"
    return str(created.id)


@pytest.mark.browser
def test_variations_and_an_upscale_from_a_generations_page_appear_live_where_it_leads(
    web_server: str,
    gpu_worker: RunningProcess,
    browser_page: Any,
    alice_client: Client,
    user: User,
) -> None:
    # At 256x256 its upscale is 512x512, the tiny model's largest size: no upscale of that.
    original_id = generation_submitted(
        alice_client, prompt="a paper boat on a pond", width=256, height=256, steps=4
    )
    original = generation_wait(original_id, "succeeded", "failed", timeout=120)
    assert original.status == "succeeded", original.error
    page = browser_page
    browser_sign_in(page, web_server)
    actions = f'#generation-detail .image-actions[data-generation="{original_id}"]'

    try:
        page.goto(f"{web_server}/gallery/{original_id}/")
        page.select_option(f"{actions} .variations-count", "2")
        assert page.inner_text(f'{actions} [data-action="variations"]') == "Variations · 2 credits"
        # Paused, so that the new generation is shown queued first and then followed live.
        gpu_worker.process.send_signal(signal.SIGSTOP)
        page.click(f'{actions} [data-action="variations"]')
        variations_id = generate_page_card_followed_live(page, web_server, gpu_worker, "variations")

        page.goto(f"{web_server}/gallery/{original_id}/")
        assert page.inner_text(f'{actions} [data-action="upscale"]') == "Upscale x2 · 2 credits"
        gpu_worker.process.send_signal(signal.SIGSTOP)
        page.click(f'{actions} [data-action="upscale"]')
        upscale_id = generate_page_card_followed_live(page, web_server, gpu_worker, "upscale")
    finally:
        gpu_worker.process.send_signal(signal.SIGCONT)

    upscale_card = f'.generation[data-id="{upscale_id}"]'
    assert page.get_attribute(f"{upscale_card} .images img", "width") == "512"
    # Built live for the new image: at the model's largest size, variations but no upscale.
    assert page.is_visible(f'{upscale_card} [data-action="variations"]')
    assert page.query_selector(f'{upscale_card} [data-action="upscale"]') is None
    assert page.inner_text(f"{upscale_card} .upscale-limit") == (
        "Already the largest size Tiny demo makes"
    )
    assert page.is_visible(f'.generation[data-id="{variations_id}"] [data-action="upscale"]')
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "detail-variations.png"), full_page=True)

    variations = Generation.objects.get(id=variations_id)
    upscale = Generation.objects.get(id=upscale_id)
    assert (variations.count, variations.images.count()) == (2, 2)
    assert variations.source_image == upscale.source_image == original.images.get()
    png = page.request.get(f"{web_server}/images/{upscale_id}/0.png").body()
    assert Image.open(io.BytesIO(png)).size == (512, 512)
    # 1 for the prompt, 2 x 1 for the variations, 2 for the upscale.
    assert balance_for(user) == 10 - 1 - 2 - 2
