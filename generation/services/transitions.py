"""The moves every part of a generation's life shares: locking its row, ending it with a refund,
and putting it (back) in line.

Status changes are conditional updates, or made on the row locked here, so that a worker, a
cancel, the reaper and the reconciler racing for the same generation can never both win;
whoever moves a generation to failed or canceled refunds it, and the ledger refunds a generation
at most once.
"""

import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

from billing.services.credits import credits_refund
from generation.events import generation_event_publish
from generation.models import Generation
from generation.queues import generation_enqueue, lease_release, line_leave_quietly
from generation.services.standings import arrival_announce

log = logging.getLogger(__name__)
Status = Generation.Status
ACTIVE = (Status.QUEUED, Status.RUNNING)


def generation_lock(
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


def generation_end(
    *,
    generation_id: Any,
    from_statuses: tuple[str, ...],
    run_token: str | None = None,
    **fields: Any,
) -> bool:
    """Move an unfinished generation to failed or canceled and refund it, in one transaction.
    With `run_token`, only while the generation is still in that run."""
    with transaction.atomic():
        generation = generation_lock(generation_id, from_statuses, run_token)
        if generation is None:
            return False
        Generation.objects.filter(id=generation_id).update(
            finished_at=timezone.now(), revision=F("revision") + 1, **fields
        )
        if generation.status == Status.QUEUED:
            line_leave_quietly(generation)
        lease_release(generation_id, run_token=generation.run_token)
        generation.refresh_from_db()
        credits_refund(
            user=generation.user, amount=generation.credits_charged, generation_id=generation.id
        )
        transaction.on_commit(lambda: generation_event_publish(generation))
    return True


def generation_fail(*, generation_id: Any, error: str) -> bool:
    """Mark an unfinished generation failed with a message meant for its owner, and refund it."""
    return generation_end(
        generation_id=generation_id, from_statuses=ACTIVE, status=Status.FAILED, error=error
    )


def generation_line_up(generation: Generation) -> None:
    try:
        # Announced before it is enqueued, so "queued" always reaches the browser before the
        # worker's "running".
        arrival_announce(generation)
        generation_enqueue(generation)
    except RedisError:
        log.exception("Could not enqueue generation %s", generation.id)
        generation_fail(
            generation_id=generation.id,
            error="The job queue is unreachable right now. Please try again in a moment.",
        )
        generation.refresh_from_db()


def generation_requeue(generation: Generation, **fields: Any) -> None:
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
    generation_line_up(generation)
