"""The latest live preview of each running generation, kept briefly in Redis for callers that
ask for it rather than listen for it (AUTOMATIC1111's /sdapi/v1/progress)."""

import logging
from uuid import UUID

from redis.exceptions import RedisError

from rollerai.connections import redis_connection

log = logging.getLogger(__name__)

# A preview older than this belongs to a run that has ended or stalled.
PREVIEW_KEPT_SECONDS = 60


def _key(generation_id: UUID) -> str:
    return f"preview:{generation_id}"


def preview_keep(generation_id: UUID, preview: str) -> None:
    """Keep a data: URL preview; never fails the run it comes from."""
    try:
        redis_connection().set(_key(generation_id), preview, ex=PREVIEW_KEPT_SECONDS)
    except RedisError:
        log.debug("Could not keep the preview of %s", generation_id, exc_info=True)


def preview_latest(generation_id: UUID) -> str | None:
    """The latest preview as a data: URL, or None."""
    try:
        preview = redis_connection().get(_key(generation_id))
    except RedisError:
        return None
    return preview.decode() if isinstance(preview, bytes) else None
