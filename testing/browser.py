"""Steps a person takes in the real browser that many tests begin with, and the screens they
take them on."""

from typing import Any

from conftest import PASSWORD

# The sizes browser tests check pages at: a laptop, and a phone of 390 CSS pixels.
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def browser_sign_up(page: Any, site: str, username: str) -> None:
    """Signs up on the site's page as `username` and waits for the generate page's live events
    to connect."""
    page.goto(f"{site}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status[data-state=open]")


def browser_sign_in(page: Any, site: str, username: str = "alice") -> None:
    """Signs in on the site's page as `username` (made with conftest's PASSWORD) and waits for
    the generate page."""
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
