"""The credit ledger: every change of a balance is one entry."""

from django.conf import settings
from django.db import models


class CreditEntry(models.Model):
    class Kind(models.TextChoices):
        SIGNUP_GRANT = "signup_grant", "Welcome credits"
        PURCHASE = "purchase", "Purchase"
        GENERATION_DEBIT = "generation_debit", "Generation"
        GENERATION_REFUND = "generation_refund", "Refund"
        STAFF_ADJUSTMENT = "staff_adjustment", "Adjustment by staff"

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
                    kind__in=["generation_debit", "generation_refund", "signup_grant", "purchase"]
                ),
                name="one_entry_per_kind_and_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.kind} for {self.user}"
