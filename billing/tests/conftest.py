"""Billing's fixtures: Stripe's API as a loopback stand-in, the webhook's signing secret, a pack."""

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from billing.models import CreditPack
from billing.tests.stripe_stand_in import StripeStandIn

SECRET_KEY = "sk_test_51RollerAIStandInKeyNotSecret"
WEBHOOK_SECRET = "whsec_RollerAITestSigningSecretNotSecret"


@pytest.fixture
def stripe_api(settings: Settings) -> Iterator[StripeStandIn]:
    """Payments configured, with the real stripe SDK sending its requests to the stand-in."""
    stand_in = StripeStandIn().start()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_API_BASE = stand_in.url
    yield stand_in
    stand_in.stop()


@pytest.fixture
def webhook_secret(settings: Settings) -> str:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


@pytest.fixture
def pack(db: None) -> CreditPack:
    return CreditPack.objects.create(
        name="Creator", credits=250, price_cents=2000, currency="usd", sort_order=20
    )
