"""`manage.py create_credit_packs`: the default packs, made once, and with --stripe their matching
Stripe prices (through the real SDK, against the loopback stand-in)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from billing.models import CreditPack
from billing.tests.stripe_stand_in import StripeStandIn


@pytest.fixture(autouse=True)
def no_packs(db: None) -> None:
    """A site whose staff deleted the packs its first migration made."""
    CreditPack.objects.all().delete()


def packs() -> list[tuple[str, int, int, str, bool]]:
    return [
        (pack.name, pack.credits, pack.price_cents, pack.currency, pack.active)
        for pack in CreditPack.objects.order_by("sort_order")
    ]


def test_it_creates_the_default_packs_once_and_keeps_staff_changes(db: None) -> None:
    call_command("create_credit_packs", stdout=StringIO())
    CreditPack.objects.filter(name="Studio").update(price_cents=5500, active=False)
    output = StringIO()

    call_command("create_credit_packs", stdout=output)

    assert packs() == [
        ("Starter", 50, 500, "usd", True),
        ("Creator", 250, 2000, "usd", True),
        ("Studio", 1000, 5500, "usd", False),
    ]
    assert output.getvalue().splitlines() == [
        "Kept pack Starter (50 credits, 5.00 USD)",
        "Kept pack Creator (250 credits, 20.00 USD)",
        "Kept pack Studio (1000 credits, 55.00 USD)",
    ]


def test_it_refuses_a_currency_that_is_not_an_iso_code(db: None) -> None:
    with pytest.raises(CommandError, match="lower-case ISO code"):
        call_command("create_credit_packs", "--currency", "dollars", stdout=StringIO())

    assert not CreditPack.objects.exists()


def test_stripe_prices_need_the_secret_key(db: None, settings: Settings) -> None:
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(CommandError, match="--stripe needs STRIPE_SECRET_KEY to be set"):
        call_command("create_credit_packs", "--stripe", stdout=StringIO())


def test_with_stripe_every_active_pack_gets_a_matching_price(
    db: None, stripe_api: StripeStandIn
) -> None:
    call_command("create_credit_packs", stdout=StringIO())
    CreditPack.objects.filter(name="Studio").update(active=False)

    call_command("create_credit_packs", "--stripe", stdout=StringIO())
    call_command("create_credit_packs", "--stripe", stdout=StringIO())

    assert [request.form for request in stripe_api.requests] == [
        {
            "currency": "usd",
            "unit_amount": str(pack.price_cents),
            "product_data[name]": pack.name,
            "product_data[metadata][pack_id]": str(pack.pk),
            "metadata[pack_id]": str(pack.pk),
        }
        for pack in CreditPack.objects.filter(active=True).order_by("sort_order")
    ]
    priced = {pack.name: pack.stripe_price_id for pack in CreditPack.objects.all()}
    assert set(priced) == {"Starter", "Creator", "Studio"}
    assert priced["Starter"] in stripe_api.prices and priced["Creator"] in stripe_api.prices
    assert priced["Studio"] == ""
