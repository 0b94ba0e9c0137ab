"""A user's live feed: messages to the channel-layer group that their open pages listen on."""

import asyncio
import logging
import threading
from typing import Any

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


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
