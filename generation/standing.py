"""Where a queued generation stands: its place in line and when it should be done, from the
queues in Redis and the recent speed of the live workers serving its model. Only computed here;
generation.services.standings tells the owners."""

import logging
import math
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from generation.fleet import ModelCapacity, model_capacity
from generation.models import DiffusionModel, Generation
from generation.queues import queued_job_ids

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Standing:
    position: int
    # Seconds until its images should be done; None until a worker's speed is known.
    eta_seconds: int | None
    # No live worker serves the model: a GPU has to start before anything moves.
    waiting_for_worker: bool

    def event_fields(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "eta_seconds": self.eta_seconds,
            "waiting_for_worker": self.waiting_for_worker,
        }


def _waiting(
    model: DiffusionModel, *, high_priority_only: bool = False, limit: int | None = None
) -> list[tuple[str, int]]:
    """(generation id, image count) of the queued generations in line, in order."""
    job_ids = queued_job_ids(model, high_priority_only=high_priority_only)[:limit]
    counts = {
        str(generation_id): count
        for generation_id, count in Generation.objects.filter(
            id__in=job_ids, status=Generation.Status.QUEUED
        ).values_list("id", "count")
    }
    # Jobs without a queued generation were cancelled or are being claimed right now.
    return [(job_id, counts[job_id]) for job_id in job_ids if job_id in counts]


def _standing(position: int, images_until_done: int, capacity: ModelCapacity) -> Standing:
    eta = None
    if capacity.workers and capacity.seconds_per_image is not None:
        # The live workers share the line, each image taking about the recent time per image.
        eta = math.ceil(images_until_done * capacity.seconds_per_image / capacity.workers)
    return Standing(position=position, eta_seconds=eta, waiting_for_worker=not capacity.workers)


def model_standings(model: DiffusionModel, *, limit: int | None = None) -> dict[str, Standing]:
    """The standing of every generation waiting for `model` (or of the first `limit`)."""
    capacity = model_capacity(model.slug)
    standings = {}
    images = 0
    for position, (generation_id, count) in enumerate(_waiting(model, limit=limit), start=1):
        images += count
        standings[generation_id] = _standing(position, images, capacity)
    return standings


def generation_standing(generation: Generation) -> Standing | None:
    """Its place in line, or None if it is not queued or Redis, which knows, is unreachable:
    reading a generation needs only the database, so an outage of Redis costs only this."""
    if generation.status != Generation.Status.QUEUED:
        return None
    try:
        return model_standings(generation.model).get(str(generation.id))
    except RedisError as error:
        log.warning("No place in line for generation %s: %s", generation.id, error)
        return None


def arrival_standing(generation: Generation) -> Standing:
    """Where a generation about to be enqueued will stand: behind everything waiting (or, if it
    has high priority, behind the other high-priority generations only)."""
    waiting = _waiting(generation.model, high_priority_only=generation.high_priority)
    images = sum(count for _, count in waiting) + generation.count
    return _standing(len(waiting) + 1, images, model_capacity(generation.model.slug))
