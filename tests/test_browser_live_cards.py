"""In a real browser: the card that appears live when a generation is submitted names its model as
the page's own cards do, by name rather than slug."""

from typing import Any

import pytest
from playwright.sync_api import expect

from testing.browser import browser_sign_up


@pytest.mark.browser
def test_a_live_card_names_the_model(
    web_server: str, transactional_db: None, tiny_model: Any, browser_page: Any
) -> None:
    page = browser_page
    browser_sign_up(page, web_server, "nora")

    page.fill("#prompt", "a kite over the dunes")
    page.click("#generate")
    page.wait_for_selector(".generation[data-status=queued]")

    detail = page.locator(".generation .detail").first
    expect(detail).to_contain_text("Tiny demo · ")
    assert "tiny-demo" not in detail.inner_text()
