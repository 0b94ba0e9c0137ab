"""Steps a person takes in the real browser that many tests begin with."""

from typing import Any

from conftest import PASSWORD


def browser_sign_up(page: Any, site: str, username: str) -> None:
    """Signs up on the site's page as `username` and waits for the generate page's live events
    to connect."""
    page.goto(f"{site}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status[data-state=open]")
