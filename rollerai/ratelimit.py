"""Counting requests in Redis, so that limits hold across every web process."""

import django_rq

from rollerai.exceptions import RateLimited


def rate_limit_hit(*, scope: str, who: str, limit: int, window_seconds: int, message: str) -> None:
    """Count one attempt by `who`; raise RateLimited once more than `limit` fall in the window.

    A fixed window that starts at the first attempt: cheap (two commands) and strict enough for
    abuse protection.
    """
    key = f"ratelimit:{scope}:{who}"
    redis = django_rq.get_connection("default")
    pipeline = redis.pipeline()
    pipeline.incr(key)
    pipeline.expire(key, window_seconds, nx=True)
    pipeline.ttl(key)
    count, _, ttl = pipeline.execute()
    if count > limit:
        raise RateLimited(message, retry_after=max(int(ttl), 1))
