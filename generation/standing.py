"""Where a queued generation stands: its place in line and when it should be done, from the
line in Redis (generation.line) and the recent speed of the live workers serving its model. Only
computed here; generation.services.standings tells the owners."""

import logging
import math
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from generation.fleet import ModelCapacity, model_capacity
from generation.line import line_back, line_head, line_leave, line_place
from generation.models import DiffusionModel, Generation
from generation.queues import line_queues, queue_name
from rollerai.connections import redis_connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Standing:
    position: int
    # Seconds until its images should be done; None until a worker's speed is known.
    eta_seconds: int | None
    # No live worker serves the model: a GPU has to start before anything moves.
    waiting_for_worker: bool
    # A GPU is starting for it: about this many seconds until it is up (0: any moment now).
    gpu_starting_seconds: int | None = None
    # The pool runs all the GPUs it may: the ETA counts on these alone, no more are coming.
    at_max: bool = False

    def event_fields(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "eta_seconds": self.eta_seconds,
            "waiting_for_worker": self.waiting_for_worker,
            "gpu_starting_seconds": self.gpu_starting_seconds,
            "at_max": self.at_max,
        }


def _waiting(model: DiffusionModel, *, limit: int) -> list[tuple[str, int]]:
    """(generation id, image count) of the first `limit` queued generations in line, in order.

    Ones still in line that have ended meanwhile (their leaving was lost to an outage, or they
    failed while queued) are taken out here, at the head, where they would hold up positions.
    """
    connection = redis_connection()
    head = line_head(connection, line_queues(model), limit)
    queued = {
        str(generation_id)
        for generation_id in Generation.objects.filter(
            id__in=[gid for gid, _ in head], status=Generation.Status.QUEUED
        ).values_list("id", flat=True)
    }
    ended = [gid for gid, _ in head if gid not in queued]
    if ended:
        pipeline = connection.pipeline()
        for queue in line_queues(model):
            line_leave(pipeline, queue=queue, generation_ids=ended)
        pipeline.execute()
    return [(gid, images) for gid, images in head if gid in queued]


def _standing(position: int, images_until_done: int, capacity: ModelCapacity) -> Standing:
    eta = starting_in = None
    per_image = capacity.seconds_per_image
    if capacity.workers and per_image is not None:
        # The live workers share the line, each image taking about the recent time per image.
        eta = math.ceil(images_until_done * per_image / capacity.workers)
    elif not capacity.workers and capacity.ready_in_seconds is not None:
        starting_in = math.ceil(capacity.ready_in_seconds)
        if per_image is not None:
            eta = starting_in + math.ceil(images_until_done * per_image / capacity.starting)
    return Standing(
        position=position,
        eta_seconds=eta,
        waiting_for_worker=not capacity.workers,
        gpu_starting_seconds=starting_in,
        at_max=capacity.at_max,
    )


def model_standings(model: DiffusionModel, *, limit: int) -> dict[str, Standing]:
    """The standing of the first `limit` generations waiting for `model`."""
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
    model = generation.model
    queues = line_queues(model)
    own = queue_name(model, high_priority=generation.high_priority)
    try:
        place = line_place(redis_connection(), queues, own, str(generation.id))
        if place is None:
            return None  # being claimed by a worker right now
        return _standing(place.position, place.images_until_done, model_capacity(model.slug))
    except RedisError as error:
        log.warning("No place in line for generation %s: %s", generation.id, error)
        return None


def arrival_standing(generation: Generation) -> Standing:
    """Where a generation about to be enqueued will stand: behind everything waiting (or, if it
    has high priority, behind the other high-priority generations only)."""
    queues = line_queues(generation.model, high_priority_only=generation.high_priority)
    place = line_back(redis_connection(), queues, images=generation.count)
    return _standing(place.position, place.images_until_done, model_capacity(generation.model.slug))
