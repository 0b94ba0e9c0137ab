"""Everything that changes a generation: submitting and paying for it, cancelling it, and each
step of its life on a worker.

Status changes are conditional updates (`filter(status=...).update(...)`), so that a worker, a
cancel and a retry racing for the same generation can never both win; whoever moves a
generation to failed or canceled refunds it, and the ledger refunds a generation at most once.
"""

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.models import Profile
from billing.models import CreditEntry
from billing.services import credits_debit, credits_refund
from generation.events import generation_event_publish
from generation.models import DiffusionModel, Generation, GenerationImage
from generation.payloads import images_payload
from generation.queues import (
    LEASE_SECONDS,
    cancel_flag_set,
    generation_enqueue,
    generation_job_remove,
    job_pending,
    lease_release,
    lease_take,
    leases_held,
)
from generation.standing import arrival_standing, standings_publish
from generation.validation import generation_request_validate
from rollerai.exceptions import Conflict, InvalidRequest, NotFound, RateLimited
from rollerai.ratelimit import rate_limit_hit

log = logging.getLogger(__name__)
Status = Generation.Status
ACTIVE = (Status.QUEUED, Status.RUNNING)
MAX_IDEMPOTENCY_KEY_LENGTH = 100
# A generation whose worker died is run again once; a second death fails it.
MAX_ATTEMPTS = 2


@dataclass(frozen=True)
class StoredImage:
    """An image a worker has already written to storage, described by its storage names."""

    index: int
    seed: int
    width: int
    height: int
    image_name: str
    thumbnail_name: str


def _fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _generation_for_idempotency_key(*, user: User, key: str, fingerprint: str) -> Generation | None:
    generation = Generation.objects.filter(user=user, idempotency_key=key).first()
    if generation is not None and generation.request_fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
        )
    return generation


def generation_submit(*, user: User, data: Any, idempotency_key: str = "") -> Generation:
    """Validate a request, charge for it and put it on its model's queue.

    With an idempotency key, a retry of the same request returns the generation the first one
    made, charged once.
    """
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidRequest(
            f"An Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters.",
            code="invalid_idempotency_key",
        )
    request = generation_request_validate(data)
    fingerprint = _fingerprint(data) if idempotency_key else ""
    if idempotency_key:
        existing = _generation_for_idempotency_key(
            user=user, key=idempotency_key, fingerprint=fingerprint
        )
        if existing is not None:
            return existing
    rate_limit_hit(
        scope="submit",
        who=str(user.pk),
        limit=settings.SUBMISSIONS_PER_MINUTE,
        window_seconds=60,
        message=f"You can start at most {settings.SUBMISSIONS_PER_MINUTE} generations a minute.",
    )
    cost = request.count * request.model.credits_per_image
    try:
        with transaction.atomic():
            # Locking the profile serialises one user's submissions, so the limit on active
            # generations below cannot be raced past.
            Profile.objects.select_for_update().filter(user=user).first()
            if Generation.objects.filter(user=user, status__in=ACTIVE).count() >= (
                settings.MAX_ACTIVE_GENERATIONS
            ):
                raise RateLimited(
                    f"You already have {settings.MAX_ACTIVE_GENERATIONS} generations waiting or "
                    "running. Start more when one of them is done.",
                    retry_after=10,
                )
            generation_id = uuid.uuid4()
            credits_debit(user=user, amount=cost, reference=str(generation_id))
            generation = Generation.objects.create(
                id=generation_id,
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
                credits_charged=cost,
                high_priority=_gets_priority(user),
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
            )
            # Only a committed generation may reach a worker, or the worker would not find it.
            transaction.on_commit(lambda: _generation_queue(generation))
    except IntegrityError:
        # Two requests with the same key raced and the other one created the generation; its
        # transaction, and so its charge, is the only one that counts.
        winner = idempotency_key and _generation_for_idempotency_key(
            user=user, key=idempotency_key, fingerprint=fingerprint
        )
        if not winner:
            raise
        return winner
    return generation


def _gets_priority(user: User) -> bool:
    return settings.PRIORITY_FOR_PAYING_USERS and (
        CreditEntry.objects.filter(user=user, kind=CreditEntry.Kind.PURCHASE).exists()
    )


def _generation_queue(generation: Generation) -> None:
    try:
        # Announced before it is enqueued, so "queued" always reaches the browser before the
        # worker's "running".
        generation_event_publish(generation, **arrival_standing(generation).event_fields())
        generation_enqueue(generation)
    except RedisError:
        log.exception("Could not enqueue generation %s", generation.id)
        generation_fail(
            generation_id=generation.id,
            error="The job queue is unreachable right now. Please try again in a moment.",
        )
        generation.refresh_from_db()


def _generation_end(*, generation_id: Any, from_statuses: tuple[str, ...], **fields: Any) -> bool:
    """Move an unfinished generation to failed or canceled and refund it, in one transaction."""
    with transaction.atomic():
        ended = Generation.objects.filter(id=generation_id, status__in=from_statuses).update(
            finished_at=timezone.now(), **fields
        )
        lease_release(generation_id)
        if not ended:
            return False
        generation = Generation.objects.select_related("user").get(id=generation_id)
        credits_refund(
            user=generation.user, amount=generation.credits_charged, generation_id=generation.id
        )
        transaction.on_commit(lambda: generation_event_publish(generation))
    return True


def generation_cancel(*, user: User, generation_id: Any) -> Generation:
    """Cancel the user's own unfinished generation and refund it.

    A queued one leaves its queue at once; a running one is marked canceled now and its worker
    stops at the next step.
    """
    generation = (
        Generation.objects.select_related("model").filter(id=generation_id, user=user).first()
    )
    if generation is None:
        raise NotFound("No such generation.")
    # A worker may claim it between our read and our update; then the second round sees it
    # running. Nothing else can happen to an unfinished generation in between.
    for _ in range(2):
        if generation.status == Status.QUEUED:
            if _generation_end(
                generation_id=generation.id, from_statuses=(Status.QUEUED,), status=Status.CANCELED
            ):
                generation_job_remove(generation)
                standings_publish(generation.model)
                break
        elif generation.status == Status.RUNNING:
            cancel_flag_set(generation.id)
            if _generation_end(
                generation_id=generation.id, from_statuses=(Status.RUNNING,), status=Status.CANCELED
            ):
                break
        else:
            raise Conflict(
                f"This generation has already {generation.status}; there is nothing to cancel.",
                code="already_finished",
            )
        generation.refresh_from_db()
    generation.refresh_from_db()
    return generation


def generation_start(*, generation_id: Any, worker_name: str) -> Generation | None:
    """Claim a queued generation for a worker; None if it is no longer queued (e.g. cancelled).

    The lease comes first: a running generation without one looks abandoned to the reaper.
    """
    lease_take(generation_id, worker_name=worker_name)
    claimed = Generation.objects.filter(id=generation_id, status=Status.QUEUED).update(
        status=Status.RUNNING,
        started_at=timezone.now(),
        progress_step=0,
        error="",
        attempts=F("attempts") + 1,
        worker_name=worker_name,
    )
    if not claimed:
        lease_release(generation_id)
        return None
    generation = Generation.objects.select_related("model").get(id=generation_id)
    generation_event_publish(generation, step=0, total=generation.steps)
    return generation


def generation_progress(
    *, generation: Generation, step: int, preview: str | None = None, record: bool = True
) -> None:
    """Tell the owner how far sampling has got; with `record`, also keep it for the API (the
    worker records less often than it reports, as each write costs a database round trip)."""
    if record:
        Generation.objects.filter(id=generation.id, status=Status.RUNNING).update(
            progress_step=step
        )
    generation_event_publish(
        generation, wait=False, step=step, total=generation.steps, preview=preview
    )


def generation_succeed(*, generation: Generation, images: list[StoredImage]) -> bool:
    """Record the stored images and mark the generation done; False if it was no longer running."""
    with transaction.atomic():
        finished = Generation.objects.filter(id=generation.id, status=Status.RUNNING).update(
            status=Status.SUCCEEDED, finished_at=timezone.now(), progress_step=generation.steps
        )
        lease_release(generation.id)
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
    """Mark an unfinished generation failed with a message meant for its owner, and refund it."""
    return _generation_end(
        generation_id=generation_id, from_statuses=ACTIVE, status=Status.FAILED, error=error
    )


def generation_release(*, generation_id: Any) -> bool:
    """Give a running generation back to the queue because its worker is shutting down; this
    run does not count as an attempt."""
    released = Generation.objects.filter(id=generation_id, status=Status.RUNNING).update(
        status=Status.QUEUED, started_at=None, progress_step=0, attempts=F("attempts") - 1
    )
    lease_release(generation_id)
    if released:
        _generation_queue(Generation.objects.select_related("model").get(id=generation_id))
    return bool(released)


def generations_reap() -> list[str]:
    """Find running generations whose worker died (their lease ran out) and run them again on
    another worker, or fail and refund them if that already happened once."""
    started_before = timezone.now() - timedelta(seconds=LEASE_SECONDS)
    running = [
        str(generation_id)
        for generation_id in Generation.objects.filter(
            status=Status.RUNNING, started_at__lt=started_before
        ).values_list("id", flat=True)
    ]
    held = leases_held(running)
    reaped = [generation_id for generation_id in running if generation_id not in held]
    for generation_id in reaped:
        generation = Generation.objects.select_related("model").get(id=generation_id)
        if generation.attempts >= MAX_ATTEMPTS:
            log.warning("Generation %s lost its worker again; failing it", generation_id)
            generation_fail(
                generation_id=generation_id,
                error="The GPU worker stopped twice while making this image. "
                "Your credits have been refunded.",
            )
        elif Generation.objects.filter(id=generation_id, status=Status.RUNNING).update(
            status=Status.QUEUED, started_at=None, progress_step=0
        ):
            log.warning("Generation %s lost its worker; queueing it again", generation_id)
            generation.refresh_from_db()
            _generation_queue(generation)
    return reaped


def generations_reconcile() -> list[str]:
    """Put back on their queue the queued generations that Redis lost (e.g. it restarted)."""
    # Brand-new generations are left alone: their enqueue may still be on its way.
    created_before = timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    queued = Generation.objects.filter(
        status=Status.QUEUED, created_at__lt=created_before
    ).select_related("model")
    restored = []
    for generation in queued:
        # A job a worker has just taken is in no queue but still pending for RQ.
        if not job_pending(generation.id):
            log.warning(
                "Generation %s was missing from its queue; queueing it again", generation.id
            )
            _generation_queue(generation)
            restored.append(str(generation.id))
    return restored


def diffusion_model_register(*, slug: str, name: str, source: str, **fields: Any) -> DiffusionModel:
    """Add a model to the registry, or update the one with this slug."""
    model, _ = DiffusionModel.objects.update_or_create(
        slug=slug, defaults={"name": name, "source": source, **fields}
    )
    return model
