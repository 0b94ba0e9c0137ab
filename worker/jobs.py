"""RQ job functions. The web tier enqueues them by dotted path and never imports this module."""

import contextlib

from django.conf import settings
from django.db import close_old_connections
from redis.exceptions import RedisError
from rq import get_current_job

from generation.queues import generation_dequeued
from worker.pipelines import pipeline_cache
from worker.runner import generation_run
from worker.state import worker_state


def run_generation(generation_id: str) -> None:
    job = get_current_job()
    if job is not None:
        # Off its queue now, so no longer waiting in line, whatever becomes of it.
        with contextlib.suppress(RedisError):
            generation_dequeued(queue=job.origin, generation_id=generation_id)
    # A worker lives for days: drop database connections that went stale between jobs.
    close_old_connections()
    try:
        generation_run(
            generation_id=generation_id,
            pipelines=pipeline_cache(),
            state=worker_state(),
            events_per_second=settings.PROGRESS_EVENTS_PER_SECOND,
            preview_interval=settings.PREVIEW_INTERVAL_SECONDS,
        )
    finally:
        close_old_connections()
