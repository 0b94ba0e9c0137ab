"""The credit packs a new site starts with, and their matching prices on Stripe."""

import re
from dataclasses import dataclass

import stripe

from billing.models import CreditPack
from billing.stripe_client import stripe_client
from rollerai.exceptions import InvalidRequest, Unavailable


@dataclass(frozen=True)
class PackDefault:
    name: str
    credits: int
    price_cents: int
    sort_order: int


# Bigger packs are cheaper per credit; staff change prices and names in the admin afterwards.
DEFAULT_PACKS = [
    PackDefault(name="Starter", credits=50, price_cents=500, sort_order=10),
    PackDefault(name="Creator", credits=250, price_cents=2000, sort_order=20),
    PackDefault(name="Studio", credits=1000, price_cents=6000, sort_order=30),
]


def credit_packs_defaults_create(*, currency: str = "usd") -> list[tuple[CreditPack, bool]]:
    """Create the default packs that don't exist yet (by name); existing ones are left as staff
    made them. Returns each pack with whether it was created now."""
    if not re.fullmatch(r"[a-z]{3}", currency):
        raise InvalidRequest(
            "The currency must be a lower-case ISO code such as usd or eur.", field="currency"
        )
    return [
        CreditPack.objects.get_or_create(
            name=default.name,
            defaults={
                "credits": default.credits,
                "price_cents": default.price_cents,
                "currency": currency,
                "sort_order": default.sort_order,
            },
        )
        for default in DEFAULT_PACKS
    ]


def credit_pack_stripe_price_create(*, pack: CreditPack) -> CreditPack:
    """Create a Stripe product and price matching the pack, and remember the price's id.

    A pack that already has a price keeps it: Stripe prices can't be changed, only replaced.
    """
    if pack.stripe_price_id:
        return pack
    try:
        price = stripe_client().v1.prices.create(
            params={
                "currency": pack.currency,
                "unit_amount": pack.price_cents,
                "product_data": {"name": pack.name, "metadata": {"pack_id": str(pack.pk)}},
                "metadata": {"pack_id": str(pack.pk)},
            }
        )
    except stripe.StripeError as error:
        raise Unavailable(
            f"Stripe did not create a price for {pack.name}: {error.user_message or error}",
            code="payments_unavailable",
        )
    pack.stripe_price_id = price.id
    pack.save(update_fields=["stripe_price_id", "updated_at"])
    return pack
