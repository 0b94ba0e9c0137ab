"""Everything that changes a generation: submitting it, and each step of its life on a worker.

Status changes are conditional updates (`filter(status=...).update(...)`), so that a worker, a
cancel and a retry racing for the same generation can never both win.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from generation.events import generation_event_publish
from generation.models import DiffusionModel, Generation, GenerationImage
from generation.payloads import images_payload
from generation.queues import generation_enqueue, queue_length
from generation.validation import generation_request_validate

log = logging.getLogger(__name__)
Status = Generation.Status


@dataclass(frozen=True)
class StoredImage:
    """An image a worker has already written to storage, described by its storage names."""

    index: int
    seed: int
    width: int
    height: int
    image_name: str
    thumbnail_name: str


def generation_submit(*, user: User, data: Any) -> Generation:
    """Validate a request, record it as queued and put it on its model's queue."""
    request = generation_request_validate(data)
    with transaction.atomic():
        generation = Generation.objects.create(
            user=user,
            model=request.model,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            width=request.width,
            height=request.height,
            steps=request.steps,
            guidance=request.guidance,
            seed=request.seed,
            count=request.count,
        )
        # Only a committed generation may reach a worker, or the worker would not find it.
        transaction.on_commit(lambda: _generation_queue(generation))
    return generation


def _generation_queue(generation: Generation) -> None:
    try:
        # Announced before it is enqueued, so "queued" always reaches the browser before the
        # worker's "running".
        generation_event_publish(generation, position=queue_length(generation.model) + 1)
        generation_enqueue(generation)
    except RedisError:
        log.exception("Could not enqueue generation %s", generation.id)
        generation_fail(
            generation_id=generation.id,
            error="The job queue is unreachable right now. Please try again in a moment.",
        )
        generation.refresh_from_db()


def generation_start(*, generation_id: Any) -> Generation | None:
    """Claim a queued generation for a worker; None if it is no longer queued (e.g. cancelled)."""
    claimed = Generation.objects.filter(id=generation_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), progress_step=0, error=""
    )
    if not claimed:
        return None
    generation = Generation.objects.select_related("model").get(id=generation_id)
    generation_event_publish(generation, step=0, total=generation.steps)
    return generation


def generation_progress(*, generation: Generation, step: int) -> None:
    Generation.objects.filter(id=generation.id, status=Status.RUNNING).update(progress_step=step)
    generation_event_publish(generation, step=step, total=generation.steps)


def generation_succeed(*, generation: Generation, images: list[StoredImage]) -> bool:
    """Record the stored images and mark the generation done; False if it was no longer running."""
    with transaction.atomic():
        finished = Generation.objects.filter(id=generation.id, status=Status.RUNNING).update(
            status=Status.SUCCEEDED, finished_at=timezone.now(), progress_step=generation.steps
        )
        if not finished:
            return False
        GenerationImage.objects.bulk_create(
            GenerationImage(
                generation=generation,
                index=image.index,
                seed=image.seed,
                width=image.width,
                height=image.height,
                image=image.image_name,
                thumbnail=image.thumbnail_name,
            )
            for image in images
        )
    generation.refresh_from_db()
    generation_event_publish(generation, images=images_payload(generation))
    return True


def generation_fail(*, generation_id: Any, error: str) -> bool:
    """Mark an unfinished generation failed with a message meant for its owner."""
    failed = Generation.objects.filter(
        id=generation_id, status__in=[Status.QUEUED, Status.RUNNING]
    ).update(status=Status.FAILED, error=error, finished_at=timezone.now())
    if failed:
        generation_event_publish(Generation.objects.get(id=generation_id))
    return bool(failed)


def generation_release(*, generation_id: Any) -> bool:
    """Give a running generation back to the queue because its worker is shutting down."""
    released = Generation.objects.filter(id=generation_id, status=Status.RUNNING).update(
        status=Status.QUEUED, started_at=None, progress_step=0
    )
    if released:
        _generation_queue(Generation.objects.select_related("model").get(id=generation_id))
    return bool(released)


def diffusion_model_register(*, slug: str, name: str, source: str, **fields: Any) -> DiffusionModel:
    """Add a model to the registry, or update the one with this slug."""
    model, _ = DiffusionModel.objects.update_or_create(
        slug=slug, defaults={"name": name, "source": source, **fields}
    )
    return model
