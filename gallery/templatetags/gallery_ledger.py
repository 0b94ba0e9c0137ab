"""Ledger rows shown with the generation they paid for: billing sits below the gallery and
knows a generation only by the id in an entry's reference, so the gallery puts the two together."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django import template

from billing.models import CreditEntry
from generation.models import Generation

register = template.Library()

GENERATION_KINDS = {CreditEntry.Kind.GENERATION_DEBIT, CreditEntry.Kind.GENERATION_REFUND}


@dataclass(frozen=True)
class LedgerRow:
    entry: CreditEntry
    generation: Generation | None


def _generation_id(entry: CreditEntry) -> uuid.UUID | None:
    if entry.kind not in GENERATION_KINDS:
        return None
    try:
        return uuid.UUID(entry.reference)
    except ValueError:
        return None


@register.simple_tag
def ledger_rows(entries: Iterable[CreditEntry]) -> list[LedgerRow]:
    """Each entry with its generation (one query for all); only the entry's owner's generations."""
    entries = list(entries)
    ids = {gid for entry in entries if (gid := _generation_id(entry)) is not None}
    users = {entry.user_id for entry in entries}
    generations = {
        generation.id: generation
        for generation in Generation.objects.filter(id__in=ids, user_id__in=users).only(
            "id", "prompt", "user_id"
        )
    }
    rows = []
    for entry in entries:
        generation = generations.get(_generation_id(entry))  # type: ignore[arg-type]
        if generation is not None and generation.user_id != entry.user_id:
            generation = None
        rows.append(LedgerRow(entry=entry, generation=generation))
    return rows
