"""One Redis connection pool per process, shared by everything that talks to Redis: RQ, leases
and cancel flags, rate limits, heartbeats and health checks; and one asyncio pool per event
loop, for the live event log.

`django_rq.get_connection()` builds a new client, and so a new TCP connection, on every call; a
command on a fresh connection costs 1.1-1.5 ms here against 0.1 ms on a reused one, and a submit
used to open eight. The pool is safe to share between threads, and redis-py drops a parent's
connections in a forked child, so a fork never shares a socket.
"""

import asyncio
import functools
from typing import Any

from django.conf import settings
from redis import Redis
from redis.asyncio import BlockingConnectionPool
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.connection import AbstractConnection

# An idle connection is pinged before use after this many seconds, so one that a restart of
# Redis (or a proxy on the way) has closed is replaced instead of failing a request.
HEALTH_CHECK_SECONDS = 30


@functools.cache
def _client(url: str) -> Redis:
    return Redis.from_url(url, health_check_interval=HEALTH_CHECK_SECONDS)


def redis_connection() -> Redis:
    """The process's Redis client for the queues' Redis (REDIS_URL, as RQ_QUEUES holds it for
    django-rq's admin pages too). Read on each call, so that settings a test overrides are
    honoured; for the same URL every call returns the same client and pool."""
    return _client(settings.RQ_QUEUES["default"]["URL"])


class IdleClosingPool(BlockingConnectionPool):
    """redis-py's asyncio pool, bounded (a command that finds every connection busy waits for
    one) and closing connections that stayed idle for `idle_seconds`, so that a burst (a
    thousand sockets opening at once) leaves no connections behind once it is over. redis-py
    keeps every connection it ever opened; this reads its list of idle ones (redis-py 7.4)."""

    def __init__(self, *, idle_seconds: float = 30.0, **options: Any) -> None:
        super().__init__(**options)
        self.idle_seconds = idle_seconds
        self._released_at: dict[AbstractConnection, float] = {}
        self._sweep: asyncio.TimerHandle | None = None
        self._sweeping: set[asyncio.Task[None]] = set()

    async def release(self, connection: AbstractConnection) -> None:
        await super().release(connection)
        self._released_at[connection] = asyncio.get_running_loop().time()
        await self._close_idle()

    async def _close_idle(self) -> None:
        # The list is a stack (the last released is taken first), so the longest idle are at
        # its bottom; each is taken off before the await, so no command can pick it up.
        idle = self._available_connections
        now = asyncio.get_running_loop().time()
        while idle and now - self._released_at.get(idle[0], now) > self.idle_seconds:
            connection = idle.pop(0)
            del self._released_at[connection]
            await connection.disconnect()
        self._sweep_schedule()

    def _sweep_schedule(self) -> None:
        """Once traffic stops nothing is released, so a timer closes what is left idle."""
        idle, loop = self._available_connections, asyncio.get_running_loop()
        if self._sweep is None and idle:
            due = self._released_at.get(idle[0], loop.time()) + self.idle_seconds
            self._sweep = loop.call_at(due + 0.01, self._sweep_start)

    def _sweep_start(self) -> None:
        self._sweep = None
        task = asyncio.ensure_future(self._close_idle())
        self._sweeping.add(task)
        task.add_done_callback(self._sweeping.discard)


# Enough for a process's concurrent catch-ups; commands take well under a millisecond.
ASYNC_CONNECTIONS = 10
_async_clients: dict[asyncio.AbstractEventLoop, AsyncRedis] = {}


def async_redis_connection() -> AsyncRedis:
    """The running event loop's asyncio client for REDIS_URL, one per loop (asyncio
    connections belong to the loop that opened them): daphne's sockets share one, and so do
    the publisher's sends."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # Clients of closed loops (tests run each in a loop of its own) can't be used again.
        for closed in [other for other in _async_clients if other.is_closed()]:
            del _async_clients[closed]
        pool = IdleClosingPool.from_url(
            settings.RQ_QUEUES["default"]["URL"],
            max_connections=ASYNC_CONNECTIONS,
            timeout=10,
            idle_seconds=settings.REDIS_IDLE_CONNECTION_SECONDS,
        )
        client = _async_clients[loop] = AsyncRedis.from_pool(pool)
    return client
