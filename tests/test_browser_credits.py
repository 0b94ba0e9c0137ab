"""In a real browser: a new account sees its credits, the balance drops when it generates and
comes back, live, when it cancels a job that is still queued."""

from typing import Any

import pytest
from playwright.sync_api import expect

from conftest import ARTIFACTS_DIR
from testing.browser import browser_sign_up


@pytest.mark.browser
def test_the_balance_follows_submit_and_cancel_without_reloading(
    web_server: str, transactional_db: None, tiny_model: Any, browser_page: Any
) -> None:
    # No worker runs here, so the generation stays queued until it is cancelled.
    page = browser_page
    browser_sign_up(page, web_server, "erin")
    assert page.inner_text("#balance") == "10 credits"
    page.evaluate("window.pageLoadMarker = 'same page'")

    page.fill("#prompt", "a paper boat on a pond")
    page.click("#generate")
    page.wait_for_selector(".generation[data-status=queued]")
    expect(page.locator("#balance")).to_have_text("9 credits", timeout=30_000)

    page.click(".generation[data-status=queued] .cancel")
    page.wait_for_selector(".generation[data-status=canceled]")
    expect(page.locator("#balance")).to_have_text("10 credits", timeout=30_000)

    assert page.evaluate("window.pageLoadMarker") == "same page"
    assert page.inner_text(".generation .status") == "Cancelled"
    assert not page.is_visible(".generation .cancel")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "credits.png"), full_page=True)
