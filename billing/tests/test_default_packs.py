"""A fresh site has credit packs on sale as soon as it is migrated, so /billing/ with Stripe
configured has something to buy."""

import importlib

from django.apps import apps
from django.test import Client

from billing.models import CreditPack
from billing.tests.stripe_stand_in import StripeStandIn

# Test databases are emptied between tests that commit, which takes migrated rows with them:
# the migration's own step is run here on a site with no packs, as a fresh site's migrate does.
migration = importlib.import_module("billing.migrations.0005_default_credit_packs")


def test_a_migrated_site_sells_the_default_packs(
    alice_client: Client, stripe_api: StripeStandIn
) -> None:
    CreditPack.objects.all().delete()
    migration.create_default_packs(apps, None)
    migration.create_default_packs(apps, None)  # a site that has packs gets no more

    page = alice_client.get("/billing/")

    html = page.content.decode()
    assert [
        (pack.name, pack.credits, pack.price_display, pack.active)
        for pack in CreditPack.objects.order_by("sort_order")
    ] == [
        ("Starter", 50, "5.00 USD", True),
        ("Creator", 250, "20.00 USD", True),
        ("Studio", 1000, "60.00 USD", True),
    ]
    assert page.status_code == 200
    for name in ("Starter", "Creator", "Studio"):
        assert name in html
    assert html.count(">Buy</button>") == 3
