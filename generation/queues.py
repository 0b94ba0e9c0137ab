"""The Redis side of generations: RQ queues (two per model, so workers can serve chosen models
and paying users can go first), running-job leases and cancel flags."""

import contextlib

import django_rq
from django.conf import settings
from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from generation.models import DiffusionModel, Generation

# Enqueued by dotted path so that the web tier never imports the worker (and so torch).
RUN_GENERATION_JOB = "worker.jobs.run_generation"
# A running generation's worker renews its lease every couple of seconds, from a thread of its
# own (so also during long steps); a lease that runs out means the worker is gone.
LEASE_SECONDS = 10
# A running generation is stopped by a flag its worker checks after every step.
CANCEL_FLAG_SECONDS = 3600


def _redis() -> Redis:
    return django_rq.get_connection("default")


def queue_name(model: DiffusionModel, *, high_priority: bool = False) -> str:
    return f"model-{model.slug}{'-high' if high_priority else ''}"


def model_queue(model: DiffusionModel, *, high_priority: bool = False) -> Queue:
    return Queue(queue_name(model, high_priority=high_priority), connection=_redis())


def model_queues(model: DiffusionModel) -> list[Queue]:
    """A model's queues in the order workers drain them: high priority first."""
    return [model_queue(model, high_priority=True), model_queue(model)]


def queue_length(model: DiffusionModel) -> int:
    return sum(queue.count for queue in model_queues(model))


def queued_job_ids(model: DiffusionModel, *, high_priority_only: bool = False) -> list[str]:
    """The jobs waiting for this model, in the order workers will take them."""
    queues = model_queues(model)[:1] if high_priority_only else model_queues(model)
    return [job_id for queue in queues for job_id in queue.get_job_ids()]


def _job_delete(job_id: str, connection: Redis) -> None:
    with contextlib.suppress(NoSuchJobError):
        Job.fetch(job_id, connection=connection).delete(remove_from_queue=False)


def job_pending(generation_id: object) -> bool:
    """Whether RQ still has this generation's job waiting or being run."""
    try:
        job = Job.fetch(str(generation_id), connection=_redis())
    except NoSuchJobError:
        return False
    return job.get_status() in (JobStatus.QUEUED, JobStatus.STARTED)


def generation_enqueue(generation: Generation) -> None:
    queue = model_queue(generation.model, high_priority=generation.high_priority)
    # A generation put back after its worker died still has the dead run's job; start afresh.
    _job_delete(str(generation.id), queue.connection)
    queue.enqueue_call(
        RUN_GENERATION_JOB,
        args=(str(generation.id),),
        job_id=str(generation.id),
        timeout=settings.GENERATION_JOB_TIMEOUT,
        # The generation row is the record users see; RQ only needs the job until it has run.
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


def generation_job_remove(generation: Generation) -> bool:
    """Take a waiting job off its queue; True if it was there (and so is now ours)."""
    queue = model_queue(generation.model, high_priority=generation.high_priority)
    removed = bool(queue.remove(str(generation.id)))
    if removed:
        _job_delete(str(generation.id), queue.connection)
    return removed


def _cancel_flag(generation_id: object) -> str:
    return f"generation:{generation_id}:cancel"


def cancel_flag_set(generation_id: object) -> None:
    _redis().set(_cancel_flag(generation_id), 1, ex=CANCEL_FLAG_SECONDS)


def cancel_requested(generation_ids: list[str]) -> set[str]:
    """Which of these generations their owners have cancelled (one round trip for a batch)."""
    pipeline = _redis().pipeline()
    for generation_id in generation_ids:
        pipeline.exists(_cancel_flag(generation_id))
    return {
        generation_id
        for generation_id, flagged in zip(generation_ids, pipeline.execute(), strict=True)
        if flagged
    }


def _lease(generation_id: object) -> str:
    return f"generation:{generation_id}:lease"


def lease_take(generation_id: object, *, worker_name: str) -> None:
    _redis().set(_lease(generation_id), worker_name, ex=LEASE_SECONDS)


def leases_renew(generation_ids: list[str]) -> None:
    if not generation_ids:
        return
    pipeline = _redis().pipeline()
    for generation_id in generation_ids:
        pipeline.expire(_lease(generation_id), LEASE_SECONDS)
    pipeline.execute()


def lease_release(generation_id: object) -> None:
    _redis().delete(_lease(generation_id))


def leases_held(generation_ids: list[str]) -> set[str]:
    """Which of these generations a live worker is still running."""
    if not generation_ids:
        return set()
    pipeline = _redis().pipeline()
    for generation_id in generation_ids:
        pipeline.exists(_lease(generation_id))
    return {
        generation_id
        for generation_id, held in zip(generation_ids, pipeline.execute(), strict=True)
        if held
    }


def maintenance_turn(*, seconds: int) -> bool:
    """True for exactly one caller per period, so that many workers don't all reap at once."""
    return bool(_redis().set("generation:maintenance", 1, nx=True, ex=seconds))
