"""Pushes a user's new balance to their open pages, so the header changes without a reload."""

from billing.models import CreditBalance
from rollerai.live import publisher, user_group

EVENT_TYPE = "balance.update"


def balance_event_publish(*, user_id: int) -> None:
    credits = (
        CreditBalance.objects.filter(user_id=user_id).values_list("credits", flat=True).first()
    )
    if credits is None:
        return
    # Kept: a page that missed a change would show a wrong balance until reloaded.
    publisher.group_send(
        user_group(user_id),
        {"type": EVENT_TYPE, "event": {"type": "balance", "credits": credits}},
        kept=True,
    )
