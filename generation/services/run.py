"""A generation's run on a GPU worker: claimed as a new run (with companions for one batched
pipeline call), progress, and its end: succeeded, failed, or handed back.

Every write of a run is fenced by its run token: it applies only while the row is still in that
run, so a run that was given up on (its worker presumed dead) can never clobber its successor.
"""

import contextlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from redis.exceptions import RedisError

from generation.events import generation_event_publish
from generation.models import Generation, GenerationImage
from generation.previews import preview_keep
from generation.queues import generation_job_remove, lease_release, lease_take, queued_job_ids
from generation.schemas import images_of
from generation.services.transitions import generation_end, generation_lock, generation_requeue

Status = Generation.Status
# How far down the queue a worker looks for companions to batch with the generation it took.
BATCH_LOOKAHEAD = 64


@dataclass(frozen=True)
class StoredImage:
    """An image a worker has already written to storage, described by its storage names."""

    index: int
    seed: int
    width: int
    height: int
    image_name: str
    thumbnail_name: str


def generation_start(*, generation_id: Any, worker_name: str) -> Generation | None:
    """Claim a queued generation for a worker, as a new run; None if it is no longer queued
    (cancelled, or another worker has it), in which case nothing is touched."""
    run_token = secrets.token_hex(8)
    claimed = Generation.objects.filter(id=generation_id, status=Status.QUEUED).update(
        status=Status.RUNNING,
        started_at=timezone.now(),
        progress_step=0,
        error="",
        attempts=F("attempts") + 1,
        worker_name=worker_name,
        run_token=run_token,
        revision=F("revision") + 1,
    )
    if not claimed:
        return None
    # Taken after the claim, so that a worker which loses the claim never touches the lease of
    # the run that won it. Until then the reaper leaves the run alone: it only reaps a lease
    # that has been missing for a whole lease period. If Redis is away right now, the worker's
    # next renewal makes the lease.
    with contextlib.suppress(RedisError):
        lease_take(generation_id, run_token=run_token)
    generation = Generation.objects.select_related("model").get(id=generation_id)
    if generation.run_token != run_token:
        # This worker stalled (frozen, swapped out) right after claiming, long enough for the
        # run to be given up on and claimed again: the claim is no longer ours.
        return None
    # Not waited for: sampling need not wait on Redis, and events still go out in order.
    generation_event_publish(generation, wait=False, step=0, total=generation.steps)
    return generation


def runs_current(runs: dict[str, str]) -> set[str]:
    """Of these runs ({generation id: run token}), the generations still running in them. The
    database decides who runs a generation; a lease in Redis only says the run is alive."""
    return {
        str(generation_id)
        for generation_id, run_token in Generation.objects.filter(
            id__in=list(runs), status=Status.RUNNING
        ).values_list("id", "run_token")
        if runs[str(generation_id)] == run_token
    }


def generation_start_from_queue(*, generation: Generation, worker_name: str) -> Generation | None:
    """Claim a queued generation whose job is still waiting in its queue (a companion for a
    batched pipeline call), taking the job off the queue; None if another worker got either.

    The row stays locked while its job leaves the queue and it is claimed, so the reconciler
    never sees it queued with no job, and a worker that took the job first owns the claim.
    """
    with transaction.atomic():
        if generation_lock(generation.id, (Status.QUEUED,)) is None:
            return None
        if not generation_job_remove(generation):
            return None
        return generation_start(generation_id=generation.id, worker_name=worker_name)


def generation_batch_claim(
    *, first: Generation, max_images: int, worker_name: str
) -> list[Generation]:
    """Claim queued generations that can share one pipeline call with `first`, up to
    `max_images` images in all, each taken off its queue as it is claimed.

    They match it in model, size, steps, guidance, sampler (as it runs: none named is the
    model's default), strength, and in starting from a prompt or from an image (two pipelines).
    """
    images = first.count
    if images >= max_images:
        return []
    job_ids = queued_job_ids(
        first.model, high_priority_only=first.high_priority, limit=BATCH_LOOKAHEAD
    )
    companions = {
        str(generation.id): generation
        for generation in Generation.objects.filter(
            id__in=job_ids,
            status=Status.QUEUED,
            model_id=first.model_id,
            high_priority=first.high_priority,
            width=first.width,
            height=first.height,
            steps=first.steps,
            guidance=first.guidance,
            # None (from a prompt) matches only None.
            strength=first.strength,
        )
        .filter(_same_start(first), _same_sampler(first))
        .select_related("model")
    }
    batch: list[Generation] = []
    for job_id in job_ids:
        companion = companions.get(job_id)
        if companion is None or images + companion.count > max_images:
            continue
        claimed = generation_start_from_queue(generation=companion, worker_name=worker_name)
        if claimed is None:
            continue  # another worker took it first
        batch.append(claimed)
        images += claimed.count
        if images >= max_images:
            break
    return batch


def _same_start(first: Generation) -> Q:
    """From a prompt (the text-to-image pipeline) or from an image (the image-to-image one:
    image-to-image, variations and upscales all start from an init image)."""
    text = Q(kind=Generation.Kind.TEXT)
    return text if first.kind == Generation.Kind.TEXT else ~text


def _same_sampler(first: Generation) -> Q:
    """The sampler the worker will run `first` with; naming none means the model's default."""
    default = first.model.default_sampler
    effective = first.sampler or default
    return Q(sampler__in=[effective, ""]) if effective == default else Q(sampler=effective)


def generation_progress(
    *, generation: Generation, step: int, preview: str | None = None, record: bool = True
) -> bool:
    """Tell the owner how far sampling has got; with `record`, also keep it for the API (the
    worker records less often than it reports, as each write costs a database round trip).
    False once a recorded step finds that this run no longer has the generation."""
    if record and not _in_run(generation).update(progress_step=step):
        return False
    if preview is not None:
        preview_keep(generation.id, preview)
    generation_event_publish(
        generation, wait=False, step=step, total=generation.steps, preview=preview
    )
    return True


def _in_run(generation: Generation) -> Any:
    """The generation's row while it is still running in the run `generation` was claimed as."""
    return Generation.objects.filter(
        id=generation.id, status=Status.RUNNING, run_token=generation.run_token
    )


def generation_succeed(*, generation: Generation, images: list[StoredImage]) -> bool:
    """Record the stored images and mark the generation done; False if this run no longer has
    it (cancelled, or given to another run), and then nothing is recorded."""
    with transaction.atomic():
        finished = _in_run(generation).update(
            status=Status.SUCCEEDED,
            finished_at=timezone.now(),
            progress_step=generation.steps,
            revision=F("revision") + 1,
        )
        if not finished:
            return False
        lease_release(generation.id, run_token=generation.run_token)
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
    generation_event_publish(
        generation, images=[image.model_dump() for image in images_of(generation)]
    )
    return True


def generation_run_fail(*, generation: Generation, error: str) -> bool:
    """A worker's run failed: mark the generation failed and refund it, only if it is still in
    this run (a run that was given up on must not fail the run that replaced it)."""
    return generation_end(
        generation_id=generation.id,
        from_statuses=(Status.RUNNING,),
        run_token=generation.run_token,
        status=Status.FAILED,
        error=error,
    )


def generation_release(*, generation: Generation) -> bool:
    """Give a running generation back to the queue because its worker is shutting down; this
    run does not count as an attempt."""
    with transaction.atomic():
        locked = generation_lock(generation.id, (Status.RUNNING,), generation.run_token)
        if locked is None:
            return False
        generation_requeue(locked, attempts=F("attempts") - 1)
    return True
