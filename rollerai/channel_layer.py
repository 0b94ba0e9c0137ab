"""The channel layer: channels-redis's, with a bounded connection pool per event loop that closes
connections once they stay idle.

channels-redis 4.3.0 gives each event loop a plain redis-py `ConnectionPool`, which has no limit
and never closes an idle connection. Every command a consumer awaits (group_add on connect,
group_discard on close, the receive loop's pops) takes a connection of its own while others are
in use, so the pool grows to the most commands ever in flight at once and keeps them all: after
1,000 sockets connected and left together, daphne held about 1,000 Redis connections.
"""

from typing import Any

from channels_redis.core import RedisChannelLayer

from rollerai.connections import IdleClosingPool


class BoundedRedisChannelLayer(RedisChannelLayer):  # type: ignore[misc]
    """Takes each host as `{"address": url, ...}`; the other options go to the pool:
    `max_connections` (the most one loop opens to the host), `timeout` (seconds a command may
    wait for a free connection before it fails) and `idle_seconds`."""

    def create_pool(self, index: int) -> IdleClosingPool:
        host: dict[str, Any] = dict(self.hosts[index])
        return IdleClosingPool.from_url(host.pop("address"), **host)
