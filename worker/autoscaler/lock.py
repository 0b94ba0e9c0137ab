"""Only one controller acts at a time: it holds a Redis lock with a TTL and renews it every
round. A second controller (run for safety) waits; if the first dies, its lock expires and the
second takes over within a TTL."""

import secrets

from redis import Redis

LOCK_KEY = "autoscaler:lock"

# Renews only a lock that is still ours: one that expired and was taken is left alone.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class ControllerLock:
    def __init__(self, connection: Redis, *, ttl_seconds: float) -> None:
        self.connection = connection
        self.ttl_ms = int(ttl_seconds * 1000)
        self.token = secrets.token_hex(8)

    def hold(self) -> bool:
        """Take the lock or renew it; whether this controller may act this round."""
        if self.connection.eval(_RENEW, 1, LOCK_KEY, self.token, self.ttl_ms):
            return True
        return bool(self.connection.set(LOCK_KEY, self.token, nx=True, px=self.ttl_ms))

    def release(self) -> None:
        self.connection.eval(_RELEASE, 1, LOCK_KEY, self.token)
