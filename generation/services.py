"""Everything that changes a generation: submitting and paying for it, cancelling it, and each
step of its life on a worker.

Status changes are conditional updates (`filter(status=...).update(...)`), so that a worker, a
cancel and a retry racing for the same generation can never both win; whoever moves a
generation to failed or canceled refunds it, and the ledger refunds a generation at most once.
"""

import hashlib
import json
import logging
import secrets
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
from generation.queues import (
    cancel_flag_set,
    generation_enqueue,
    generation_job_remove,
    job_pending,
    lease_release,
    lease_seconds,
    lease_take,
    leases_lost,
)
from generation.schemas import GenerationRequest, images_of
from generation.standing import arrival_standing, standings_publish
from generation.validation import generation_request_validate
from rollerai.exceptions import Conflict, InvalidRequest, NotFound, RateLimited
from rollerai.ratelimit import rate_limit_hit
from rollerai.request_input import text_check

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


def generation_submit(
    *, user: User, data: GenerationRequest, idempotency_key: str = ""
) -> Generation:
    """Validate a request, charge for it and put it on its model's queue.

    With an idempotency key, a retry of the same request returns the generation the first one
    made, charged once.
    """
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidRequest(
            f"An Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters.",
            code="invalid_idempotency_key",
        )
    text_check(idempotency_key, field="Idempotency-Key")
    request = generation_request_validate(data)
    # What the client sent, as it was parsed: a retry of the same body has the same fingerprint.
    fingerprint = _fingerprint(data.model_dump(exclude_unset=True)) if idempotency_key else ""
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


def _generation_end(
    *,
    generation_id: Any,
    from_statuses: tuple[str, ...],
    run_token: str | None = None,
    **fields: Any,
) -> bool:
    """Move an unfinished generation to failed or canceled and refund it, in one transaction.
    With `run_token`, only while the generation is still in that run."""
    with transaction.atomic():
        generation = _generation_lock(generation_id, from_statuses, run_token)
        if generation is None:
            return False
        Generation.objects.filter(id=generation_id).update(
            finished_at=timezone.now(), revision=F("revision") + 1, **fields
        )
        lease_release(generation_id, run_token=generation.run_token)
        generation.refresh_from_db()
        credits_refund(
            user=generation.user, amount=generation.credits_charged, generation_id=generation.id
        )
        transaction.on_commit(lambda: generation_event_publish(generation))
    return True


def _generation_lock(
    generation_id: Any, statuses: tuple[str, ...], run_token: str | None = None
) -> Generation | None:
    """The generation, locked until the transaction ends, if it is in one of `statuses` (and,
    with `run_token`, in that run). Whoever changes a generation's status holds this lock, so
    the reaper, the reconciler, a cancel and a worker decide on the same, current row."""
    rows = Generation.objects.select_for_update(of=("self",)).select_related("model", "user")
    rows = rows.filter(id=generation_id, status__in=statuses)
    if run_token is not None:
        rows = rows.filter(run_token=run_token)
    return rows.first()


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
    # that has been missing for a whole lease period.
    lease_take(generation_id, run_token=run_token)
    generation = Generation.objects.select_related("model").get(id=generation_id)
    generation_event_publish(generation, step=0, total=generation.steps)
    return generation


def generation_start_from_queue(*, generation: Generation, worker_name: str) -> Generation | None:
    """Claim a queued generation whose job is still waiting in its queue (a companion for a
    batched pipeline call), taking the job off the queue; None if another worker got either.

    The row stays locked while its job leaves the queue and it is claimed, so the reconciler
    never sees it queued with no job, and a worker that took the job first owns the claim.
    """
    with transaction.atomic():
        if _generation_lock(generation.id, (Status.QUEUED,)) is None:
            return None
        if not generation_job_remove(generation):
            return None
        return generation_start(generation_id=generation.id, worker_name=worker_name)


def generation_progress(
    *, generation: Generation, step: int, preview: str | None = None, record: bool = True
) -> bool:
    """Tell the owner how far sampling has got; with `record`, also keep it for the API (the
    worker records less often than it reports, as each write costs a database round trip).
    False once a recorded step finds that this run no longer has the generation."""
    if record and not _in_run(generation).update(progress_step=step):
        return False
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


def generation_fail(*, generation_id: Any, error: str) -> bool:
    """Mark an unfinished generation failed with a message meant for its owner, and refund it."""
    return _generation_end(
        generation_id=generation_id, from_statuses=ACTIVE, status=Status.FAILED, error=error
    )


def generation_run_fail(*, generation: Generation, error: str) -> bool:
    """A worker's run failed: mark the generation failed and refund it, only if it is still in
    this run (a run that was given up on must not fail the run that replaced it)."""
    return _generation_end(
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
        locked = _generation_lock(generation.id, (Status.RUNNING,), generation.run_token)
        if locked is None:
            return False
        _generation_requeue(locked, attempts=F("attempts") - 1)
    return True


def _generation_requeue(generation: Generation, **fields: Any) -> None:
    """Put a locked running generation back in line. It is enqueued before the lock is let go,
    so the reconciler, waiting on the lock, then finds it in its queue and leaves it be."""
    Generation.objects.filter(id=generation.id).update(
        status=Status.QUEUED,
        started_at=None,
        progress_step=0,
        run_token="",
        revision=F("revision") + 1,
        **fields,
    )
    lease_release(generation.id, run_token=generation.run_token)
    generation.refresh_from_db()
    _generation_queue(generation)


def generations_reap() -> list[str]:
    """Find running generations whose worker died (their lease stayed missing for a whole lease
    period) and run them again on another worker, or fail and refund them if that already
    happened once."""
    running = dict(Generation.objects.filter(status=Status.RUNNING).values_list("id", "run_token"))
    started_before = timezone.now() - timedelta(seconds=lease_seconds())
    lost = leases_lost([str(generation_id) for generation_id in running])
    reaped = []
    for generation_id in lost:
        with transaction.atomic():
            generation = _generation_lock(
                generation_id, (Status.RUNNING,), running[uuid.UUID(generation_id)]
            )
            if generation is None or generation.started_at is None:
                continue
            if generation.started_at >= started_before:
                continue
            reaped.append(generation_id)
            if generation.attempts >= MAX_ATTEMPTS:
                log.warning("Generation %s lost its worker again; failing it", generation_id)
                generation_run_fail(
                    generation=generation,
                    error="The GPU worker stopped twice while making this image. "
                    "Your credits have been refunded.",
                )
            else:
                log.warning("Generation %s lost its worker; queueing it again", generation_id)
                _generation_requeue(generation)
    return reaped


def generations_reconcile() -> list[str]:
    """Put back on their queue the queued generations that Redis lost (e.g. it restarted).

    Each is decided on its locked, current row: still queued in the database and, at that
    moment, with no job waiting or running in Redis. Whoever else changes its status (a worker
    claiming it, the reaper, a cancel) waits for that decision, and a worker claims a
    companion for its batch before taking the job off the queue.
    """
    # Brand-new generations are left alone: their enqueue may still be on its way.
    created_before = timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    candidates = Generation.objects.filter(
        status=Status.QUEUED, created_at__lt=created_before
    ).values_list("id", flat=True)
    restored = []
    for generation_id in list(candidates):
        with transaction.atomic():
            generation = _generation_lock(generation_id, (Status.QUEUED,))
            if generation is None or job_pending(generation_id):
                continue
            log.warning(
                "Generation %s was missing from its queue; queueing it again", generation_id
            )
            _generation_queue(generation)
            restored.append(str(generation_id))
    return restored


def diffusion_model_register(*, slug: str, name: str, source: str, **fields: Any) -> DiffusionModel:
    """Add a model to the registry, or update the one with this slug."""
    model, _ = DiffusionModel.objects.update_or_create(
        slug=slug, defaults={"name": name, "source": source, **fields}
    )
    return model
