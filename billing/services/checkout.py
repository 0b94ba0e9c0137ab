"""Starting a purchase: a Stripe Checkout Session for one pack, and the Payment that tracks it."""

import logging

import stripe
from django.contrib.auth.models import User
from django.urls import reverse
from stripe.params.checkout import SessionCreateParams

from billing.models import CreditPack, Payment
from billing.stripe_client import stripe_client
from rollerai.exceptions import InvalidRequest, NotFound, Unavailable

log = logging.getLogger(__name__)

NOT_OPENED_MESSAGE = (
    "The payment page could not be opened; you have not been charged. Try again in a minute."
)


def credit_pack_on_sale(*, pack_id: object) -> CreditPack:
    """The active pack with this id, or a domain error a buyer can act on."""
    try:
        pack_pk = int(str(pack_id))
    except ValueError:
        raise InvalidRequest("Choose one of the credit packs.", code="pack_missing", field="pack")
    pack = CreditPack.objects.filter(pk=pack_pk, active=True).first()
    if pack is None:
        raise NotFound(
            "That credit pack is not on sale any more. Choose one of the packs below.",
            code="pack_not_on_sale",
            field="pack",
        )
    return pack


def checkout_session_create(*, user: User, pack_id: object, site_url: str) -> Payment:
    """Open a Stripe Checkout for the pack; the buyer is sent to the returned payment's URL.

    Credits are not granted here: only the signed webhook says that the money arrived.
    """
    pack = credit_pack_on_sale(pack_id=pack_id)
    client = stripe_client()
    # A Stripe Price keeps the dashboard's reports per product; without one, the amount is
    # stated here, so the site works with nothing set up on Stripe's side.
    session_params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {"price": pack.stripe_price_id, "quantity": 1}
            if pack.stripe_price_id
            else {
                "price_data": {
                    "currency": pack.currency,
                    "unit_amount": pack.price_cents,
                    "product_data": {
                        "name": pack.name,
                        "description": f"{pack.credits} RollerAI credits",
                    },
                },
                "quantity": 1,
            }
        ],
        "client_reference_id": str(user.pk),
        "metadata": {"pack_id": str(pack.pk)},
        # Stripe fills in {CHECKOUT_SESSION_ID}, so the success page can tell which payment it is.
        "success_url": f"{site_url}{reverse('billing-success')}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{site_url}{reverse('billing-canceled')}",
    }
    try:
        session = client.v1.checkout.sessions.create(params=session_params)
    except stripe.StripeError as error:
        log.warning("Stripe did not create a checkout session for pack %s: %s", pack.pk, error)
        raise Unavailable(NOT_OPENED_MESSAGE, code="payments_unavailable")
    if not session.url:
        log.warning("Stripe returned checkout session %s without a URL", session.id)
        raise Unavailable(NOT_OPENED_MESSAGE, code="payments_unavailable")
    return Payment.objects.create(
        user=user,
        pack=pack,
        credits=pack.credits,
        amount=session.amount_total if session.amount_total is not None else pack.price_cents,
        currency=(session.currency or pack.currency).lower(),
        stripe_checkout_session_id=session.id,
        checkout_url=session.url,
    )
