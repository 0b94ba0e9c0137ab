"""Tells a user's open sockets that their access changed (a key revoked, a session ended, the
password changed, the account deleted), so each checks its own credential again."""

from django.db import transaction

from rollerai.live import publisher, user_group

# The consumer method that receives these messages is named after this type.
ACCESS_CHANGED = "access.changed"


def access_changed_publish(*, user_id: int) -> None:
    """Sent once the change is committed, so the sockets' own check sees it; kept, so that a
    socket whose access is gone is closed even if the channel layer drops the message."""
    transaction.on_commit(
        lambda: publisher.group_send(user_group(user_id), {"type": ACCESS_CHANGED}, kept=True)
    )
