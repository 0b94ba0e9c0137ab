"""A user's live feed: messages to the channel-layer group that their open pages listen on.
Messages sent `kept` are also logged, so that every open socket gets them even when the channel
layer drops them (rollerai/live_log.py)."""

import asyncio
import logging
import threading
from concurrent.futures import Future
from typing import Any

from channels.layers import get_channel_layer

from rollerai.live_log import log_append

log = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


class ChannelPublisher:
    """Sends channel-layer messages from synchronous code over one long-lived event loop.

    `async_to_sync` builds a loop per call (about 4-5 ms here); a loop kept on a background thread
    costs about 2 ms, which matters when a worker reports progress many times per second. One
    coroutine sends everything, in the order it was handed over, so events never overtake each
    other, whether the caller waits for delivery or not.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: asyncio.Queue[tuple[str, dict[str, Any], bool, Future[None] | None]] | None
        self._outbox = None
        self._lock = threading.Lock()
        self._failing = False

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]:
        with self._lock:
            if self._loop is None or self._outbox is None:
                loop = asyncio.new_event_loop()
                self._outbox = asyncio.Queue()
                threading.Thread(
                    target=loop.run_forever, name="channel-publisher", daemon=True
                ).start()
                asyncio.run_coroutine_threadsafe(self._deliver(self._outbox), loop)
                self._loop = loop
            return self._loop, self._outbox

    async def _deliver(self, outbox: asyncio.Queue[Any]) -> None:
        while True:
            group, message, kept, delivered = await outbox.get()
            try:
                layer = get_channel_layer()
                if kept:
                    message = await log_append(group, message)
                if layer is not None:
                    await layer.group_send(group, message)
            # A lost event is not fatal: the database has the state, and pages and the API read
            # it (and catch up when their socket reopens); so delivery problems are logged, once
            # until delivery works again, rather than raised.
            except Exception:
                if not self._failing:
                    log.warning("Could not publish live events (first to %s)", group, exc_info=True)
                self._failing = True
            else:
                if self._failing:
                    log.warning("Publishing live events works again")
                self._failing = False
            if delivered is not None:
                delivered.set_result(None)

    def group_send(
        self,
        group: str,
        message: dict[str, Any],
        *,
        wait: bool = True,
        timeout: float = 5.0,
        kept: bool = False,
    ) -> None:
        """Hand a message over for delivery; with `wait`, return once it has been sent. A
        `kept` message reaches every socket in the group even if the channel layer drops it
        (it must be JSON, as it is logged); others may be dropped under load."""
        loop, outbox = self._started()
        delivered: Future[None] | None = Future() if wait else None
        loop.call_soon_threadsafe(outbox.put_nowait, (group, message, kept, delivered))
        if delivered is not None:
            try:
                delivered.result(timeout)
            except TimeoutError:
                log.warning("Publishing to %s took longer than %s s", group, timeout)


publisher = ChannelPublisher()
