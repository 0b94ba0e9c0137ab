"""In a real browser, on a desktop and on a phone: the landing page says what RollerAI does, shows
recently shared images and leads to sign-up; the header's navigation fits and marks the current
page; a missing page shows the site's own styled 404."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from conftest import ARTIFACTS_DIR
from gallery.tests.factories import generation_make, picture_bytes
from generation.models import DiffusionModel, Generation
from testing.browser import VIEWPORTS, browser_sign_in

NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def _shared(user: User, model: DiffusionModel, prompt: str, token: str) -> Generation:
    generation = generation_make(
        user=user, model=model, prompt=prompt, pictures=True, is_public=True, share_token=token
    )
    # A real thumbnail, so that the strip shows pictures rather than broken images.
    image = generation.images.get()
    name = str(image.thumbnail.name)
    default_storage.delete(name)
    default_storage.save(name, ContentFile(picture_bytes(64, 64, format="WEBP")))
    return generation


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_visitor_sees_the_landing_page_and_signs_up_from_it(
    web_server: str,
    browser_page: Any,
    user: User,
    tiny_model: DiffusionModel,
    transactional_db: None,
    viewport: str,
) -> None:
    shared = [
        _shared(user, tiny_model, f"a harbour at dusk, view {n}", f"landing-{n}") for n in range(5)
    ]
    generation_make(user=user, model=tiny_model, prompt="my secret garden")
    page = browser_page
    page.set_viewport_size(VIEWPORTS[viewport])

    page.goto(f"{web_server}/")

    assert page.url == f"{web_server}/"
    assert page.inner_text("h1") == "Type a prompt. Watch it paint."
    assert page.locator(".landing-points h2").all_inner_texts() == [
        "Live painting",
        "Fair credits",
        "Your gallery",
    ]
    links = page.locator("#landing-strip a")
    assert [links.nth(n).get_attribute("href") for n in range(links.count())] == [
        f"/s/{generation.share_token}/" for generation in reversed(shared)
    ]
    for image in page.locator("#landing-strip img").element_handles():
        page.wait_for_function("img => img.complete && img.naturalWidth === 64", arg=image)
    assert "my secret garden" not in page.content()
    # The header: the brand, the navigation and the way in, all on screen and nothing wider.
    for selector in (
        ".brand",
        ".site-nav a[href='/explore/']",
        ".site-account a[href='/accounts/login/']",
    ):
        assert page.locator(selector).is_visible(), selector
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"landing-{viewport}.png"), full_page=True)

    # The keyboard reaches the Sign up button, with a visible focus ring.
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "landing-signup":
            break
    assert page.evaluate("document.activeElement.id") == "landing-signup"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{web_server}/accounts/signup/")
    assert page.inner_text("h1") == "Create an account"
    assert page.get_attribute(".nav-signup", "aria-current") == "page"

    # A shared image opens its share page.
    page.goto(f"{web_server}/")
    page.click(f"#landing-strip a[href='/s/{shared[0].share_token}/']")
    page.wait_for_url(f"{web_server}/s/{shared[0].share_token}/")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_header_marks_the_current_page_and_fits_a_phone(
    web_server: str,
    browser_page: Any,
    user: User,
    tiny_model: DiffusionModel,
    transactional_db: None,
    viewport: str,
) -> None:
    page = browser_page
    page.set_viewport_size(VIEWPORTS[viewport])
    browser_sign_in(page, web_server)

    assert page.locator("#generate-form").is_visible()
    assert page.locator(".site-nav a[aria-current=page]").all_inner_texts() == ["Generate"]
    assert page.inner_text("#balance") == "10 credits"
    for selector in (".brand", "#balance", ".site-account .who", "text=Sign out"):
        assert page.locator(selector).is_visible(), selector
    assert page.evaluate(NO_HORIZONTAL_SCROLL)

    page.click(".site-nav >> text=Gallery")
    page.wait_for_url(f"{web_server}/gallery/")
    assert page.locator(".site-nav a[aria-current=page]").all_inner_texts() == ["Gallery"]
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    page.click("#balance")
    page.wait_for_url(f"{web_server}/billing/")
    assert page.get_attribute("#balance", "aria-current") == "page"
    assert page.locator(".site-nav a[aria-current=page]").count() == 0
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"header-signed-in-{viewport}.png"))


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_missing_page_shows_the_styled_404_with_a_way_home(
    web_server: str, browser_page: Any, transactional_db: None, viewport: str
) -> None:
    page = browser_page
    page.set_viewport_size(VIEWPORTS[viewport])

    response = page.goto(f"{web_server}/no-such-page/")

    assert response.status == 404
    assert page.inner_text("h1") == "There is no such page"
    # The site's stylesheet and icon are served with DEBUG off.
    assert page.evaluate("getComputedStyle(document.querySelector('.error-code')).color") == (
        "rgb(79, 70, 229)"
    )
    icon = page.request.get(f"{web_server}/static/favicon.svg")
    assert (icon.status, icon.headers["content-type"]) == (200, "image/svg+xml")
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    name = "error-404.png" if viewport == "desktop" else "error-404-phone.png"
    page.screenshot(path=str(ARTIFACTS_DIR / name))
    page.click("#error-home")
    page.wait_for_url(f"{web_server}/")
    assert page.inner_text("h1") == "Type a prompt. Watch it paint."
