"""In a real browser, on a desktop and a phone: select generations in the gallery and delete
them after confirming, star one and filter to favourites; the grid keeps each picture's shape."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from conftest import ARTIFACTS_DIR
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation
from testing.browser import VIEWPORTS, browser_sign_in

SHAPES = [(64, 64), (64, 128), (128, 64), (96, 128), (128, 96), (64, 64)]


def card(page: Any, prompt: str) -> Any:
    return page.locator(".gallery-item", has_text=prompt)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_select_delete_and_star_in_the_gallery(
    web_server: str,
    browser_page: Any,
    user: User,
    tiny_model: DiffusionModel,
    transactional_db: None,
    viewport: str,
) -> None:
    for n, shape in enumerate(SHAPES):
        generation_make(user=user, model=tiny_model, prompt=f"scene {n}", size=shape, pictures=True)
    page = browser_page
    page.set_viewport_size(VIEWPORTS[viewport])
    browser_sign_in(page, web_server)
    page.goto(f"{web_server}/gallery/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gallery-item .thumb img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )

    # Every thumbnail shows at its own shape, uncropped.
    shown = page.eval_on_selector_all(
        ".gallery-item .thumb img",
        "imgs => imgs.map(i => [i.getBoundingClientRect(), i.naturalWidth / i.naturalHeight])"
        ".map(([box, made]) => [box.width / box.height, made])",
    )
    assert len(shown) == len(SHAPES)
    assert all(on_screen == pytest.approx(made, rel=0.05) for on_screen, made in shown), shown
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"gallery-{viewport}.png"), full_page=True)

    # Star one in place, then show favourites only.
    card(page, "scene 4").locator(".favourite").click()
    page.wait_for_selector(".gallery-item:has-text('scene 4') .favourite[aria-pressed=true]")
    assert Generation.objects.get(prompt="scene 4").favourite
    page.check("#gallery-favourites")
    page.click(".gallery-filters button[type=submit]")
    page.wait_for_url("**favourites=1**")
    assert page.locator(".gallery-item .prompt").all_inner_texts() == ["scene 4"]
    page.goto(f"{web_server}/gallery/")

    # Select two, with the keyboard for the second; delete after confirming.
    assert page.is_disabled("#bulk-delete")
    card(page, "scene 1").locator("input[name=ids]").check()
    card(page, "scene 2").locator("input[name=ids]").focus()
    page.keyboard.press("Space")
    assert page.inner_text("#selected-count") == "2 selected"
    page.click("#bulk-delete")
    page.wait_for_selector("h1:text('Delete 2 generations?')")
    assert Generation.objects.count() == len(SHAPES)
    page.click("#confirm-delete")
    page.wait_for_selector(".notice:text('Deleted 2 generations.')")
    assert page.url == f"{web_server}/gallery/"
    left = page.locator(".gallery-item .prompt").all_inner_texts()
    assert "scene 1" not in left and "scene 2" not in left and len(left) == len(SHAPES) - 2

    # Select all, then download them as one zip.
    page.check("#select-all")
    assert page.inner_text("#selected-count") == f"{len(SHAPES) - 2} selected"
    with page.expect_download() as download:
        page.click("#bulk-download")
    assert download.value.suggested_filename == f"rollerai-{len(SHAPES) - 2}-generations.zip"
