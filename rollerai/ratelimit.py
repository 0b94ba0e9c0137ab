"""Counting requests in Redis, so that limits hold across every web process.

While Redis cannot be reached, every function here raises Unavailable; each caller decides
whether that refuses the request (submitting, which needs Redis anyway) or lets it through.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import RedisError

from rollerai.connections import redis_connection
from rollerai.exceptions import RateLimited, Unavailable

QUEUE_UNREACHABLE = (
    "The job queue is unreachable right now, so nothing was charged. Please try again in a minute."
)


def _key(scope: str, who: str) -> str:
    return f"ratelimit:{scope}:{who}"


@contextmanager
def _redis_reachable() -> Iterator[None]:
    try:
        yield
    except RedisError as error:
        raise Unavailable(QUEUE_UNREACHABLE, code="service_unavailable") from error


def rate_limit_count(*, scope: str, who: str, window_seconds: int) -> tuple[int, int]:
    """Count one attempt by `who`; returns the attempts in the window and its seconds left.

    A fixed window that starts at the first attempt: cheap (two commands) and strict enough for
    abuse protection.
    """
    with _redis_reachable():
        pipeline = redis_connection().pipeline()
        pipeline.incr(_key(scope, who))
        pipeline.expire(_key(scope, who), window_seconds, nx=True)
        pipeline.ttl(_key(scope, who))
        count, _, ttl = pipeline.execute()
    return int(count), int(ttl)


def rate_limit_hit(*, scope: str, who: str, limit: int, window_seconds: int, message: str) -> None:
    """Count one attempt by `who`; raise RateLimited once more than `limit` fall in the window."""
    count, ttl = rate_limit_count(scope=scope, who=who, window_seconds=window_seconds)
    if count > limit:
        raise RateLimited(message, retry_after=max(ttl, 1))


def rate_limit_check(*, scope: str, who: str, limit: int, message: str) -> None:
    """Raise RateLimited if `who` has already used up `limit` in its window; counts nothing."""
    with _redis_reachable():
        pipeline = redis_connection().pipeline()
        pipeline.get(_key(scope, who))
        pipeline.ttl(_key(scope, who))
        count, ttl = pipeline.execute()
    if count is not None and int(count) >= limit:
        raise RateLimited(message, retry_after=max(int(ttl), 1))


def rate_limit_clear(*, scope: str, who: str) -> None:
    with _redis_reachable():
        redis_connection().delete(_key(scope, who))
