"""Every write billing does: the credit ledger, credit packs, Stripe Checkout and its webhook.
Callers import from here; the modules below split the rules by subject."""

from billing.services.checkout import checkout_session_create
from billing.services.credits import credits_adjust, credits_debit, credits_grant, credits_refund
from billing.services.packs import credit_pack_stripe_price_create, credit_packs_defaults_create
from billing.services.stripe_webhook import stripe_webhook_receive

__all__ = [
    "checkout_session_create",
    "credit_pack_stripe_price_create",
    "credit_packs_defaults_create",
    "credits_adjust",
    "credits_debit",
    "credits_grant",
    "credits_refund",
    "stripe_webhook_receive",
]
