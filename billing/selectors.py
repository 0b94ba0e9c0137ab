"""Reads of balances and the ledger."""

from django.contrib.auth.models import User
from django.db.models import QuerySet, Sum

from accounts.models import Profile
from billing.models import CreditEntry


def balance_for(user: User) -> int:
    return Profile.objects.filter(user=user).values_list("credits", flat=True).first() or 0


def ledger_sum_for(user: User) -> int:
    return CreditEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0


def ledger_for(user: User, *, limit: int = 100) -> QuerySet[CreditEntry]:
    return CreditEntry.objects.filter(user=user).order_by("-created_at", "-id")[:limit]
