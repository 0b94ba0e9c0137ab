"""Balances and the credit ledger (every change of a balance is one entry), the credit packs on
sale, and the Stripe payments and webhook events that turn into purchases."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

# Common currencies Stripe counts in whole units (it has a few more); others are in 1/100.
ZERO_DECIMAL_CURRENCIES = {"clp", "jpy", "krw", "vnd"}


def money_display(amount: int, currency: str) -> str:
    """An amount in Stripe's smallest unit as people read it: 500, "usd" -> "5.00 USD"."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


class CreditBalance(models.Model):
    """A user's credits: a cache of the sum of their CreditEntry rows, changed only by
    billing.services in the same transaction as each entry."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_balance"
    )
    credits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credits__gte=0), name="credit_balance_never_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.credits} credits of {self.user}"


class CreditEntry(models.Model):
    class Kind(models.TextChoices):
        SIGNUP_GRANT = "signup_grant", "Welcome credits"
        PURCHASE = "purchase", "Purchase"
        GENERATION_DEBIT = "generation_debit", "Generation"
        GENERATION_REFUND = "generation_refund", "Refund"
        STAFF_ADJUSTMENT = "staff_adjustment", "Adjustment by staff"
        PURCHASE_REFUND = "purchase_refund", "Payment refunded"
        # What was left on the account the Discord bot made for someone, when they linked
        # Discord to their own account.
        ACCOUNT_MOVE = "account_move", "Moved from your Discord account"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_entries"
    )
    amount = models.IntegerField(help_text="Credits added (positive) or taken (negative).")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reference = models.CharField(
        max_length=100, blank=True, help_text="What it is for: a generation id, a payment id."
    )
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who made a manual adjustment.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"
        indexes = [models.Index(fields=["user", "-created_at"], name="credit_entry_user_newest")]
        constraints = [
            # What keeps a credit from being refunded, charged or granted twice is the
            # database, not the care of the code that writes these rows.
            models.UniqueConstraint(
                fields=["kind", "reference"],
                condition=models.Q(
                    kind__in=[
                        "generation_debit",
                        "generation_refund",
                        "signup_grant",
                        "purchase",
                        "purchase_refund",
                    ]
                ),
                name="one_entry_per_kind_and_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.kind} for {self.user}"


class CreditPack(models.Model):
    """A number of credits sold for a fixed price, managed by staff in the admin."""

    name = models.CharField(max_length=100)
    credits = models.PositiveIntegerField()
    price_cents = models.PositiveIntegerField(
        help_text="In the currency's smallest unit (cents; whole yen for JPY)."
    )
    currency = models.CharField(
        max_length=3,
        default="usd",
        validators=[RegexValidator(r"^[a-z]{3}$", "Use the lower-case ISO code, e.g. usd or eur.")],
        help_text="Lower-case ISO code, as Stripe writes it: usd, eur.",
    )
    stripe_price_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="Optional. When set, Stripe charges this Price (keep its amount the same as "
        "above); otherwise the checkout states the amount itself.",
    )
    active = models.BooleanField(default=True, help_text="Only active packs are on sale.")
    sort_order = models.IntegerField(default=0, help_text="Lower numbers are listed first.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "price_cents", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gt=0), name="pack_credits_positive"),
            models.CheckConstraint(
                condition=models.Q(price_cents__gt=0), name="pack_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credits} credits, {self.price_display})"

    @property
    def price_display(self) -> str:
        return money_display(self.price_cents, self.currency)


class Payment(models.Model):
    """One Stripe Checkout Session for one pack, and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for checkout"
        PROCESSING = "processing", "Payment processing"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"
        EXPIRED = "expired", "Checkout abandoned"
        PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"
        REFUNDED = "refunded", "Refunded"

    # Kept when the account is deleted: it is a record of money that changed hands.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="payments",
    )
    pack = models.ForeignKey(
        CreditPack, on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    # What was sold, as it was when the checkout began: staff may edit the pack afterwards.
    credits = models.PositiveIntegerField()
    amount = models.PositiveIntegerField(help_text="In the currency's smallest unit.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    checkout_url = models.CharField(
        max_length=2000, blank=True, help_text="Stripe's payment page, while it is open."
    )
    amount_refunded = models.PositiveIntegerField(
        default=0, help_text="Refunded so far, in the currency's smallest unit."
    )
    credits_deducted = models.PositiveIntegerField(
        default=0, help_text="Credits taken back because of refunds."
    )
    credits_not_deducted = models.PositiveIntegerField(
        default=0,
        help_text="Credits a refund should have taken back but could not: already spent.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="payment_user_newest")]

    def __str__(self) -> str:
        return f"{self.amount_display} for {self.credits} credits ({self.status})"

    @property
    def amount_display(self) -> str:
        return money_display(self.amount, self.currency)


class StripeEvent(models.Model):
    """Every webhook event we processed, once: Stripe delivers at least once, sometimes more."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=200, blank=True, help_text="What processing it did.")
    livemode = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
