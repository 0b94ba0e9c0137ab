"""A user's log of the live events that every open socket must get even when the channel layer
drops their message (it does, silently, when a process's queue is full or a message waits too
long): a generation's end, a balance change, lost access. Progress is not logged; it may be
thinned.

The publisher appends such a *kept* message to a Redis stream per group before sending it, and
the message carries its stream id and the id of the entry before it. Each socket remembers the
last kept id it delivered (its position). A message that follows the position is delivered at
once; one that does not means something was missed, and the socket reads the gap from the log
first, so kept events reach it once each and in the order they were published. A dropped *last*
message leaves no later one to reveal the gap, so every process also checks the end of its
sockets' logs every LIVE_EVENTS_CHECK_SECONDS, for all of them in one command, and has a
socket that two checks in a row found behind read what it missed.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from rollerai.connections import async_redis_connection

log = logging.getLogger(__name__)

# Keys a kept message carries over the channel layer: its own stream id, and the one before it.
KEPT_ID = "kept_id"
KEPT_AFTER = "kept_after"
# The position of a socket whose log is empty (Redis stream ids are "<ms>-<n>", above this).
LOG_START = "0-0"

# Atomic, so the id "before" is the one really before this entry, whoever else appends.
_APPEND = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local before = '0-0'
if #last > 0 then before = last[1][1] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'message', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {id, before}
"""

# The last id of each log in KEYS, or "" for an empty one.
_ENDS = """
local ends = {}
for i, key in ipairs(KEYS) do
    local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
    if #last > 0 then ends[i] = last[1][1] else ends[i] = '' end
end
return ends
"""
# Logs read by one command: small enough that Redis, which runs a script without pausing, stays
# responsive (about a millisecond for a thousand).
ENDS_PER_COMMAND = 1000

Deliver = Callable[[dict[str, Any]], Awaitable[None]]


def log_key(group: str) -> str:
    return f"live-log:{group}"


def _id(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def id_after(stream_id: str, other: str) -> bool:
    """Whether `stream_id` comes after `other` in a log (ids compare as pairs of numbers)."""
    ms, _, n = stream_id.partition("-")
    other_ms, _, other_n = other.partition("-")
    return (int(ms), int(n or 0)) > (int(other_ms), int(other_n or 0))


async def log_append(group: str, message: dict[str, Any]) -> dict[str, Any]:
    """Log a kept message; returns it with its KEPT_ID and KEPT_AFTER, ready to send."""
    kept_id, before = await async_redis_connection().eval(  # type: ignore[misc]
        _APPEND,
        1,
        log_key(group),
        json.dumps(message),
        settings.LIVE_EVENTS_KEPT,
        settings.LIVE_EVENTS_KEPT_SECONDS,
    )
    return {**message, KEPT_ID: _id(kept_id), KEPT_AFTER: _id(before)}


async def log_end(group: str) -> str:
    entries = await async_redis_connection().xrevrange(log_key(group), count=1)
    return _id(entries[0][0]) if entries else LOG_START


async def log_ends(groups: list[str]) -> list[str]:
    """The last id of each group's log (LOG_START for an empty one), in a few commands however
    many groups: one command per group cost a web process with 1,000 sockets more CPU than all
    its events."""
    ends: list[str] = []
    redis = async_redis_connection()
    for start in range(0, len(groups), ENDS_PER_COMMAND):
        keys = [log_key(group) for group in groups[start : start + ENDS_PER_COMMAND]]
        found = await redis.eval(_ENDS, len(keys), *keys)  # type: ignore[misc]
        ends += [_id(end) or LOG_START for end in found]
    return ends


async def log_read(group: str, *, after: str, upto: str = "+") -> list[tuple[str, Any]]:
    """Kept messages after `after`, up to and including `upto`, oldest first."""
    entries = await async_redis_connection().xrange(log_key(group), min=f"({after}", max=upto)
    return [(_id(entry_id), json.loads(fields[b"message"])) for entry_id, fields in entries]


class SocketFeed:
    """One socket's membership of its user's group and its position in their log. Every message
    for the socket goes through `receive`, which hands it to `deliver` unless it is a kept one
    already delivered, after any kept ones it missed; one at a time, so order holds."""

    def __init__(self, *, layer: Any, group: str, channel: str, deliver: Deliver) -> None:
        self.layer, self.group, self.channel = layer, group, channel
        self.position = LOG_START
        self.joined_at = 0.0
        self.left = False
        # The position at which the last periodic check found the socket behind its log.
        self.behind_at: str | None = None
        self._deliver = deliver
        # Deliveries one at a time, so kept events keep their order; joining and leaving one at
        # a time, so a late rejoin cannot undo a leave.
        self._delivering = asyncio.Lock()
        self._membership = asyncio.Lock()

    async def join(self) -> None:
        # The position is read before joining: a kept message sent in between is then after
        # it, and is read from the log by the next check, though the group never sent it here.
        self.position = await log_end(self.group)
        await self.rejoin()

    async def rejoin(self) -> None:
        """Join (again): the group forgets members after the layer's group_expiry."""
        async with self._membership:
            # Never after leaving: the group would keep sending to a channel nobody reads.
            if not self.left:
                await self.layer.group_add(self.group, self.channel)
                self.joined_at = asyncio.get_running_loop().time()

    def watch(self) -> None:
        """Start the periodic check; only once the socket is accepted, as it may send."""
        log_watch().add(self)

    async def leave(self) -> None:
        self.left = True
        log_watch().discard(self)
        async with self._membership:
            await self.layer.group_discard(self.group, self.channel)

    @property
    def busy(self) -> bool:
        return self._delivering.locked()

    async def receive(self, message: dict[str, Any]) -> None:
        async with self._delivering:
            kept_id = message.get(KEPT_ID)
            if kept_id is None:
                await self._send(message)
            elif id_after(kept_id, self.position):
                gap = message.get(KEPT_AFTER) != self.position
                if gap and not await self._deliver_logged(upto=kept_id):
                    # Delivered now all the same; the position stays before the gap, so the
                    # next message or check reads it again (and this one with it).
                    await self._send(message)
                    return
                self.position = kept_id
                await self._send(message)

    async def catch_up(self) -> None:
        """Deliver whatever the log holds past the position (the periodic check found some)."""
        async with self._delivering:
            await self._deliver_logged()

    async def _deliver_logged(self, upto: str = "+") -> bool:
        """Deliver the logged messages after the position, short of `upto` (the caller holds
        that one); False if the log could not be read."""
        try:
            missed = await log_read(self.group, after=self.position, upto=upto)
        except RedisError:
            log.warning("Could not read the live event log of %s", self.group, exc_info=True)
            return False
        for kept_id, message in missed:
            if kept_id == upto:
                break
            self.position = kept_id
            await self._send(message)
        return True

    async def _send(self, message: dict[str, Any]) -> None:
        # A socket that left (closed, or lost its access) hears nothing more.
        if not self.left:
            await self._deliver(message)


class LogWatch:
    """The periodic check for one event loop's sockets: it reads the end of each of their logs
    in one command, and sends the sockets behind it to catch up. It also has
    sockets join their group again before the layer would forget them."""

    def __init__(self) -> None:
        self.feeds: dict[str, set[SocketFeed]] = {}
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._failing = False

    def add(self, feed: SocketFeed) -> None:
        self.feeds.setdefault(feed.group, set()).add(feed)
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def discard(self, feed: SocketFeed) -> None:
        feeds = self.feeds.get(feed.group, set())
        feeds.discard(feed)
        if not feeds:
            self.feeds.pop(feed.group, None)
        if not self.feeds and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(settings.LIVE_EVENTS_CHECK_SECONDS)
            try:
                await self._check()
            except RedisError:
                if not self._failing:
                    log.warning("Could not check the live event logs", exc_info=True)
                self._failing = True
            # Anything else is a bug; logged, and the checks go on, as sockets depend on them.
            except Exception:
                log.exception("Checking the live event logs failed")
            else:
                self._failing = False

    async def _check(self) -> None:
        groups = list(self.feeds)
        ends = await log_ends(groups)
        now = asyncio.get_running_loop().time()
        for group, end in zip(groups, ends, strict=True):
            for feed in list(self.feeds.get(group, ())):
                self._catch_up_if_overdue(feed, end)
                if now - feed.joined_at > self._rejoin_after(feed.layer):
                    self._start(feed.rejoin())

    def _catch_up_if_overdue(self, feed: SocketFeed, end: str) -> None:
        """A socket behind its log's end is sent to catch up only if it was just as far behind
        at the previous check: its messages may still be on their way through the layer
        (behind others in the process's queue), and reading them from the log would put them
        ahead of progress published before them."""
        behind = id_after(end, feed.position)
        if behind and feed.behind_at == feed.position and not feed.busy:
            self._start(feed.catch_up())
        feed.behind_at = feed.position if behind else None

    @staticmethod
    def _rejoin_after(layer: Any) -> float:
        """Seconds after which a socket joins again: by half the layer's group_expiry, counted
        from the check that comes first, so that one failed rejoin (Redis briefly away) still
        leaves time for another."""
        expiry = float(getattr(layer, "group_expiry", 86400))
        return expiry / 2 - settings.LIVE_EVENTS_CHECK_SECONDS

    def _start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("A live socket could not catch up or rejoin", exc_info=task.exception())


_watches: dict[asyncio.AbstractEventLoop, LogWatch] = {}


def log_watch() -> LogWatch:
    """The running event loop's watch (one per loop, like its Redis client)."""
    loop = asyncio.get_running_loop()
    if loop not in _watches:
        for closed in [other for other in _watches if other.is_closed()]:
            del _watches[closed]
        _watches[loop] = LogWatch()
    return _watches[loop]
