"""A user's live feed: messages to the channel-layer group that their open pages listen on.
Messages sent `kept` are also logged, so that every open socket gets them even when the channel
layer drops them (rollerai/live_log.py)."""

import asyncio
import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from channels.layers import get_channel_layer

from rollerai.live_log import log_append

log = logging.getLogger(__name__)

# Progress that could not be sent within this many seconds is dropped by the publisher: the
# owner's page would only show it late, after steps it has already been overtaken by.
PROGRESS_MAX_DELAY_SECONDS = 2.0
# At most one log line per this many seconds about dropping it.
DROPPED_LOG_SECONDS = 10.0


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


@dataclass
class _Outgoing:
    group: str
    message: dict[str, Any]
    kept: bool
    delivered: Future[None] | None
    handed_at: float = field(default_factory=time.monotonic)

    @property
    def stale(self) -> bool:
        """Progress (sent without waiting, and not kept) that waited here too long: a later
        step has been handed over since, so sending it would only delay that one."""
        waited = time.monotonic() - self.handed_at
        return not self.kept and self.delivered is None and waited > PROGRESS_MAX_DELAY_SECONDS


class ChannelPublisher:
    """Sends channel-layer messages from synchronous code over one long-lived event loop.

    `async_to_sync` builds a loop per call (about 4-5 ms here); a loop kept on a background thread
    costs about 2 ms, which matters when a worker reports progress many times per second. One
    coroutine sends everything, in the order it was handed over, so events never overtake each
    other, whether the caller waits for delivery or not. When more is handed over than Redis
    takes, progress that has waited too long is dropped here rather than sent late.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: asyncio.Queue[_Outgoing] | None = None
        self._lock = threading.Lock()
        self._failing = False
        self._dropped = 0
        self._dropped_logged_at = 0.0

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[_Outgoing]]:
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

    async def _deliver(self, outbox: asyncio.Queue[_Outgoing]) -> None:
        while True:
            outgoing = await outbox.get()
            if self._fell_behind(outgoing):
                continue
            try:
                await self._send(outgoing)
            # A lost event is not fatal: the database has the state, and pages and the API read
            # it (and catch up when their socket reopens); so delivery problems are logged, once
            # until delivery works again, rather than raised.
            except Exception:
                if not self._failing:
                    log.warning(
                        "Could not publish live events (first to %s)", outgoing.group, exc_info=True
                    )
                self._failing = True
            else:
                if self._failing:
                    log.warning("Publishing live events works again")
                self._failing = False
            if outgoing.delivered is not None:
                outgoing.delivered.set_result(None)

    def _fell_behind(self, outgoing: _Outgoing) -> bool:
        """Whether to drop this message as stale; counted, and logged every so often."""
        if not outgoing.stale:
            return False
        self._dropped += 1
        if time.monotonic() - self._dropped_logged_at > DROPPED_LOG_SECONDS:
            log.warning(
                "Live events fell behind: dropped %s progress events older than %s s",
                self._dropped,
                PROGRESS_MAX_DELAY_SECONDS,
            )
            self._dropped, self._dropped_logged_at = 0, time.monotonic()
        return True

    async def _send(self, outgoing: _Outgoing) -> None:
        layer = get_channel_layer()
        message = outgoing.message
        if outgoing.kept:
            message = await log_append(outgoing.group, message)
        if layer is not None:
            await layer.group_send(outgoing.group, message)

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
        (it must be JSON, as it is logged); others may be dropped under load, and one sent
        neither kept nor waited for (progress) is dropped if it could not go out within
        PROGRESS_MAX_DELAY_SECONDS."""
        loop, outbox = self._started()
        delivered: Future[None] | None = Future() if wait else None
        loop.call_soon_threadsafe(outbox.put_nowait, _Outgoing(group, message, kept, delivered))
        if delivered is not None:
            try:
                delivered.result(timeout)
            except TimeoutError:
                log.warning("Publishing to %s took longer than %s s", group, timeout)


publisher = ChannelPublisher()
