"""Processes of which only one may act at a time (the autoscaler's controller, the Discord
notifier) hold a Redis lock with a TTL and renew it every round. A second one (run for safety)
waits; if the first dies, its lock expires and the second takes over within a TTL."""

import secrets

from redis import Redis

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


class LeaderLock:
    def __init__(self, connection: Redis, key: str, *, ttl_seconds: float) -> None:
        self.connection = connection
        self.key = key
        self.ttl_ms = int(ttl_seconds * 1000)
        self.token = secrets.token_hex(8)

    def hold(self) -> bool:
        """Take the lock or renew it; whether this process may act this round."""
        if self.connection.eval(_RENEW, 1, self.key, self.token, self.ttl_ms):
            return True
        return bool(self.connection.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def release(self) -> None:
        self.connection.eval(_RELEASE, 1, self.key, self.token)
