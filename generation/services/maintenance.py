"""Keeping every generation moving when things go wrong around it: the reaper runs again (or
fails and refunds) those whose worker died, the reconciler restores those Redis lost."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generation.models import Generation
from generation.queues import job_pending, jobs_pending, lease_seconds, leases_lost
from generation.services.run import generation_run_fail
from generation.services.transitions import generation_line_up, generation_lock, generation_requeue

log = logging.getLogger(__name__)
Status = Generation.Status
# A generation whose worker died is run again once; a second death fails it.
MAX_ATTEMPTS = 2


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
            generation = generation_lock(
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
                    error="The GPU worker stopped twice while making this image.",
                )
            else:
                log.warning("Generation %s lost its worker; queueing it again", generation_id)
                generation_requeue(generation)
    return reaped


# Generations whose jobs are looked up in Redis in one round trip.
RECONCILE_BATCH = 1000


def _without_pending_jobs(generation_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The generations, of these, that have no job waiting or running; checked in batches
    without locks, so that a long queue costs a few round trips per round, not a locked
    transaction per generation (each one found is then decided on its locked row)."""
    missing = []
    for start in range(0, len(generation_ids), RECONCILE_BATCH):
        batch = generation_ids[start : start + RECONCILE_BATCH]
        pending = jobs_pending([str(generation_id) for generation_id in batch])
        missing += [generation_id for generation_id in batch if str(generation_id) not in pending]
    return missing


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
    for generation_id in _without_pending_jobs(list(candidates)):
        with transaction.atomic():
            generation = generation_lock(generation_id, (Status.QUEUED,))
            if generation is None or job_pending(generation_id):
                continue
            log.warning(
                "Generation %s was missing from its queue; queueing it again", generation_id
            )
            generation_line_up(generation)
            restored.append(str(generation_id))
    return restored
