"""In a real browser: the buy page lists the packs on sale, and when Stripe's (test-signed)
webhook says the buyer paid, the balance in the header changes without a reload."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from playwright.sync_api import expect
from pytest_django.fixtures import Settings

from billing.models import CreditPack
from billing.tests.stripe_stand_in import stripe_event, webhook_post
from conftest import ARTIFACTS_DIR, PASSWORD

WEBHOOK_SECRET = "whsec_RollerAIBrowserTestSecretNotSecret"


@pytest.mark.browser
def test_the_header_balance_rises_when_the_payment_webhook_lands(
    web_server: str, transactional_db: None, user: User, browser_page: Any, settings: Settings
) -> None:
    # The webhook is delivered to this process's Django (the web server has no signing secret);
    # the balance event travels through the shared Redis to the browser's websocket.
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    # Staff replaced the packs a fresh site starts with.
    CreditPack.objects.all().delete()
    CreditPack.objects.create(name="Starter", credits=50, price_cents=500, sort_order=10)
    creator = CreditPack.objects.create(
        name="Creator", credits=250, price_cents=2000, sort_order=20
    )
    CreditPack.objects.create(name="Retired", credits=5, price_cents=100, active=False)
    page = browser_page
    page.goto(f"{web_server}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{web_server}/")

    page.goto(f"{web_server}/billing/")
    page.wait_for_selector("html[data-live=open]")
    page.evaluate("window.pageLoadMarker = 'same page'")

    assert page.locator(".pack h3").all_inner_texts() == ["Starter", "Creator"]
    assert page.locator(".pack .price").all_inner_texts() == ["5.00 USD", "20.00 USD"]
    assert page.inner_text("#balance") == "10 credits"

    paid = stripe_event(
        "checkout_session_completed_paid",
        client_reference_id=str(user.pk),
        metadata={"pack_id": str(creator.pk)},
    )
    response = webhook_post(Client(), paid, secret=WEBHOOK_SECRET)
    assert response.status_code == 200

    expect(page.locator("#balance")).to_have_text("260 credits", timeout=30_000)
    assert page.inner_text("#balance-large") == "260"
    assert page.evaluate("window.pageLoadMarker") == "same page"
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "billing.png"), full_page=True)
    # Playwright runs this body in a greenlet, where Django opened a connection of its own;
    # closed here, so that the test database can be dropped at the end of the session.
    connection.close()
