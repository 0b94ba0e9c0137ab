"""Reads of balances, the ledger, the packs on sale and payments."""

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet, Sum

from billing.models import CreditBalance, CreditEntry, CreditPack, Payment


def balance_for(user: User) -> int:
    return balance_of(user_id=user.pk)


def balance_of(*, user_id: int) -> int:
    return (
        CreditBalance.objects.filter(user_id=user_id).values_list("credits", flat=True).first() or 0
    )


def ledger_sum_for(user: User) -> int:
    return CreditEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0


def ledger_for(user: User, *, limit: int = 100) -> QuerySet[CreditEntry]:
    return CreditEntry.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


def credit_packs_on_sale() -> QuerySet[CreditPack]:
    return CreditPack.objects.filter(active=True).order_by("sort_order", "price_cents", "id")


def payments_for(user: User, *, limit: int = 50) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(user=user)
        .select_related("pack")
        .order_by("-created_at", "-id")[:limit]
    )


def payment_for_checkout(user: User, *, session_id: str) -> Payment | None:
    """The user's own payment for this Checkout Session; None for anyone else's."""
    return Payment.objects.filter(user=user, stripe_checkout_session_id=session_id).first()


def generation_credit_totals() -> tuple[int, int]:
    """All credits ever debited for generations and refunded for them, both as positive counts.

    Refunds are new entries, never edits, so both only grow (until an account is deleted with its
    ledger, which Prometheus reads as a counter reset)."""
    sums = CreditEntry.objects.filter(
        kind__in=[CreditEntry.Kind.GENERATION_DEBIT, CreditEntry.Kind.GENERATION_REFUND]
    ).aggregate(
        debited=Sum("amount", filter=Q(kind=CreditEntry.Kind.GENERATION_DEBIT)),
        refunded=Sum("amount", filter=Q(kind=CreditEntry.Kind.GENERATION_REFUND)),
    )
    # Debits are stored as negative amounts.
    return -(sums["debited"] or 0), sums["refunded"] or 0
