"""Live generation events: their shape (DESIGN.md section 4) and delivery over the channel layer."""

import asyncio
import logging
import threading
from typing import Any

from channels.layers import get_channel_layer

from generation.models import Generation

log = logging.getLogger(__name__)

# The consumer method that receives these messages is named after this type.
EVENT_TYPE = "generation.update"


def user_group(user_id: int) -> str:
    return f"generations.user.{user_id}"


def generation_event(generation: Generation, **extra: Any) -> dict[str, Any]:
    """The payload the browser receives; `extra` carries position, step/total, preview or images."""
    payload: dict[str, Any] = {
        "type": "generation",
        "id": str(generation.id),
        "status": generation.status,
    }
    if generation.status == Generation.Status.FAILED:
        payload["error"] = generation.error
    payload.update({key: value for key, value in extra.items() if value is not None})
    return payload


class ChannelPublisher:
    """Sends channel-layer messages from synchronous code over one long-lived event loop.

    `async_to_sync` builds a loop per call (about 4-5 ms here); a loop kept on a background thread
    costs about 2 ms, which matters when a worker reports progress many times per second.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="channel-publisher", daemon=True
                ).start()
                self._loop = loop
            return self._loop

    def group_send(self, group: str, message: dict[str, Any], *, timeout: float = 5.0) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        future = asyncio.run_coroutine_threadsafe(
            layer.group_send(group, message), self._running_loop()
        )
        # Waiting keeps events in order; a lost event is not fatal (the database has the state,
        # and the page and API read it), so delivery problems are logged rather than raised.
        try:
            future.result(timeout)
        except Exception:
            log.warning("Could not publish to %s", group, exc_info=True)


publisher = ChannelPublisher()


def generation_event_publish(generation: Generation, **extra: Any) -> None:
    publisher.group_send(
        user_group(generation.user_id),
        {"type": EVENT_TYPE, "event": generation_event(generation, **extra)},
    )
