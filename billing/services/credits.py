"""The only code that changes credit balances. Each change writes a CreditEntry and moves the
cached CreditBalance in the same transaction, so the balance always equals the sum of
the ledger, and a conditional update keeps it from ever going below zero."""

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F

from billing.events import balance_event_publish
from billing.models import CreditBalance, CreditEntry
from billing.selectors import balance_for
from rollerai.exceptions import InsufficientCredits, InvalidRequest

Kind = CreditEntry.Kind


def _entry_write(
    *, user: User, amount: int, kind: str, reference: str, note: str, created_by: User | None
) -> CreditEntry:
    entry = CreditEntry.objects.create(
        user=user, amount=amount, kind=kind, reference=reference, note=note, created_by=created_by
    )
    transaction.on_commit(lambda: balance_event_publish(user_id=user.pk))
    return entry


@transaction.atomic
def credits_grant(
    *,
    user: User,
    amount: int,
    kind: str,
    reference: str = "",
    note: str = "",
    created_by: User | None = None,
) -> CreditEntry:
    """Add credits. Raises IntegrityError when (kind, reference) was already granted."""
    if amount <= 0:
        raise InvalidRequest("A grant must add at least one credit.", field="amount")
    entry = _entry_write(
        user=user, amount=amount, kind=kind, reference=reference, note=note, created_by=created_by
    )
    _balance_add(user, amount)
    return entry


@transaction.atomic
def credits_debit(
    *,
    user: User,
    amount: int,
    kind: str = Kind.GENERATION_DEBIT,
    reference: str = "",
    note: str = "",
    created_by: User | None = None,
) -> CreditEntry:
    """Take credits, or raise InsufficientCredits and change nothing."""
    if amount <= 0:
        raise InvalidRequest("A debit must take at least one credit.", field="amount")
    # The balance check and the change are one statement, so concurrent debits can't both pass.
    taken = CreditBalance.objects.filter(user=user, credits__gte=amount).update(
        credits=F("credits") - amount
    )
    if not taken:
        balance = balance_for(user)
        raise InsufficientCredits(
            f"This needs {amount} credit{'s' if amount != 1 else ''}; you have {balance}."
        )
    return _entry_write(
        user=user, amount=-amount, kind=kind, reference=reference, note=note, created_by=created_by
    )


def credits_refund(*, user: User, amount: int, generation_id: Any) -> bool:
    """Give back what a generation cost. True if refunded now; False if it had been already
    (the ledger's unique constraint decides, so racing callers cannot both refund)."""
    if amount <= 0:
        return False
    try:
        with transaction.atomic():
            _entry_write(
                user=user,
                amount=amount,
                kind=Kind.GENERATION_REFUND,
                reference=str(generation_id),
                note="",
                created_by=None,
            )
            _balance_add(user, amount)
    except IntegrityError:
        return False
    return True


def _balance_add(user: User, amount: int) -> None:
    # The row is made with the first credits a user ever gets (the welcome grant, usually).
    if not CreditBalance.objects.filter(user=user).update(credits=F("credits") + amount):
        CreditBalance.objects.create(user=user, credits=amount)


def credits_lock(*, user: User) -> int:
    """Lock the user's balance until the transaction ends and return it: callers that check
    something before spending (e.g. how many generations are waiting) are serialised per user."""
    balance = (
        CreditBalance.objects.select_for_update()
        .filter(user=user)
        .values_list("credits", flat=True)
        .first()
    )
    return balance or 0


def credits_adjust(*, user: User, amount: int, note: str, created_by: User) -> CreditEntry:
    """A staff member's manual grant (positive) or deduction (negative), with its reason."""
    if not note.strip():
        raise InvalidRequest("Say why the balance is being changed.", field="note")
    if amount > 0:
        return credits_grant(
            user=user, amount=amount, kind=Kind.STAFF_ADJUSTMENT, note=note, created_by=created_by
        )
    if amount < 0:
        return credits_debit(
            user=user, amount=-amount, kind=Kind.STAFF_ADJUSTMENT, note=note, created_by=created_by
        )
    raise InvalidRequest("The amount must not be zero.", field="amount")
