"""The configured Stripe SDK client. Nothing here touches the network until a request is made."""

import stripe
from django.conf import settings

from rollerai.exceptions import Unavailable

# A checkout is created while the buyer waits; Stripe answers in well under a second normally.
REQUEST_TIMEOUT_SECONDS = 20

NOT_CONFIGURED_MESSAGE = (
    "Payments are not configured on this site. An administrator can add credits to your account."
)


def payments_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def stripe_client() -> stripe.StripeClient:
    """A client with this site's key; its own object, so nothing depends on stripe's globals."""
    if not payments_configured():
        raise Unavailable(NOT_CONFIGURED_MESSAGE, code="payments_not_configured")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None,
        http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_SECONDS),
    )
