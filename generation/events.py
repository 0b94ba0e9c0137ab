"""Live generation events: their shape (DESIGN.md section 4) and delivery over the channel layer."""

from typing import Any

from generation.models import Generation
from rollerai.live import publisher, user_group

# The consumer method that receives these messages is named after this type.
EVENT_TYPE = "generation.update"


def generation_event(generation: Generation, **extra: Any) -> dict[str, Any]:
    """The payload the browser receives; `extra` carries position, step/total, preview or images."""
    payload: dict[str, Any] = {
        "type": "generation",
        "id": str(generation.id),
        "status": generation.status,
        # Events from different processes can arrive out of order; the revision tells which
        # one describes the newer state.
        "revision": generation.revision,
    }
    if generation.status == Generation.Status.FAILED:
        payload["error"] = generation.error
    payload.update({key: value for key, value in extra.items() if value is not None})
    return payload


def generation_event_publish(generation: Generation, *, wait: bool = True, **extra: Any) -> None:
    """Send an event to the owner's pages. Progress reports pass wait=False so sampling never
    waits on Redis; events still arrive in the order they were published. Under load the
    channel layer may drop progress, but an open page always hears how a generation ended."""
    publisher.group_send(
        user_group(generation.user_id),
        {"type": EVENT_TYPE, "event": generation_event(generation, **extra)},
        wait=wait,
        kept=generation.status in Generation.FINISHED,
    )
