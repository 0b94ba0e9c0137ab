"""In a real browser: a result opens in the lightbox at its natural size, the arrow keys walk its
batch, and its actions download it, copy its seed and take its settings to the generate page."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from conftest import ARTIFACTS_DIR, PASSWORD
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def sign_in(page: Any, site: str) -> None:
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")


def shown_image(page: Any) -> Any:
    image = page.wait_for_selector(".lightbox .lightbox-image")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
    return image


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_lightbox_shows_walks_and_acts_on_a_batch(
    web_server: str,
    browser_page: Any,
    user: User,
    tiny_model: DiffusionModel,
    transactional_db: None,
    viewport: str,
) -> None:
    generation = generation_make(
        user=user, model=tiny_model, prompt="a lantern in fog", images=3, pictures=True, seed=500
    )
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web_server)
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(page, web_server)

    # The detail page: the second picture opens, the arrow shows the third.
    page.goto(f"{web_server}/gallery/{generation.id}/")
    page.click(".detail-images figure:nth-child(2) img")
    dialog = page.wait_for_selector(".lightbox[role=dialog][aria-modal=true]")
    assert dialog.is_visible()
    assert shown_image(page).get_attribute("src").endswith(f"/images/{generation.id}/1.png")
    assert page.inner_text(".lightbox-counter") == "Image 2 of 3"
    assert page.inner_text(".lightbox-caption") == "a lantern in fog"
    width = page.evaluate("document.querySelector('.lightbox-image').getBoundingClientRect().width")
    assert 0 < width <= 128
    page.keyboard.press("ArrowRight")
    assert page.inner_text(".lightbox-counter") == "Image 3 of 3"
    page.wait_for_function(
        "() => document.querySelector('.lightbox-live').textContent === 'Image 3 of 3'"
    )
    page.click(".lightbox-copy-seed")
    page.wait_for_function(
        "() => document.querySelector('.lightbox-live').textContent === 'Seed copied'"
    )
    assert page.evaluate("navigator.clipboard.readText()") == "502"
    download = page.get_attribute(".lightbox-download", "href")
    assert download == f"/images/{generation.id}/2.png?download=1"
    response = page.request.get(f"{web_server}{download}")
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.body()[:8] == b"\x89PNG\r\n\x1a\n"
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"lightbox-{viewport}.png"))
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate("document.activeElement.closest('figure:nth-child(2)') !== null")

    # The generate page's card: the first picture opens, and its settings go to the form.
    page.goto(f"{web_server}/")
    page.click(f'.generation[data-id="{generation.id}"] .images a:first-child img')
    assert shown_image(page).get_attribute("src").endswith(f"/images/{generation.id}/0.png")
    assert page.url == f"{web_server}/"
    page.keyboard.press("ArrowRight")
    assert page.inner_text(".lightbox-counter") == "Image 2 of 3"
    page.click(".lightbox-same-settings")
    page.wait_for_url(f"{web_server}/?remix={generation.id}&same_seed=1")
    assert page.input_value("#seed") == "500"
    assert page.input_value("#prompt") == "a lantern in fog"
