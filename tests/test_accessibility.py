"""Every page, signed out and signed in, on a desktop and a phone: axe-core finds nothing that
would keep someone from using it (no serious or critical violation)."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel
from testing.accessibility import axe_report, axe_violations
from testing.browser import VIEWPORTS, browser_sign_in


def check(page: Any, url: str, ready: str = "") -> list[str]:
    page.goto(url)
    if ready:
        page.wait_for_selector(ready)
    violations = axe_violations(page)
    return [f"{url}\n{axe_report(violations)}"] if violations else []


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_pages_signed_out_have_no_serious_accessibility_violations(
    web_server: str,
    browser_page: Any,
    user: User,
    tiny_model: DiffusionModel,
    transactional_db: None,
    viewport: str,
) -> None:
    shared = generation_make(
        user=user, model=tiny_model, prompt="a public fox", pictures=True, is_public=True
    )
    shared.share_token = "accessibility-check"
    shared.save(update_fields=["share_token"])
    page = browser_page
    page.set_viewport_size(VIEWPORTS[viewport])

    found = []
    for path in [
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/explore/",
        "/s/accessibility-check/",
        "/no-such-page/",
    ]:
        found += check(page, web_server + path)

    assert not found, "\n\n".join(found)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_pages_signed_in_have_no_serious_accessibility_violations(
    web_server: str,
    browser_page: Any,
    user: User,
    tiny_model: DiffusionModel,
    transactional_db: None,
    viewport: str,
) -> None:
    finished = generation_make(
        user=user, model=tiny_model, prompt="a lantern in fog", images=2, pictures=True
    )
    generation_make(user=user, model=tiny_model, prompt="a storm at sea", status="failed")
    generation_make(
        user=user, model=tiny_model, prompt="a tall tower", pictures=True, size=(64, 128)
    )
    page = browser_page
    page.set_viewport_size(VIEWPORTS[viewport])
    browser_sign_in(page, web_server)

    found = check(page, f"{web_server}/", ready="#live-status[data-state=open]")
    for path in ["/gallery/", f"/gallery/{finished.id}/", "/billing/", "/accounts/", "/explore/"]:
        found += check(page, web_server + path)
    # The lightbox, open over a generation's page.
    page.goto(f"{web_server}/gallery/{finished.id}/")
    page.click(".detail-images figure:first-child img")
    page.wait_for_selector(".lightbox[role=dialog]")
    violations = axe_violations(page)
    if violations:
        found.append(f"lightbox\n{axe_report(violations)}")

    assert not found, "\n\n".join(found)
