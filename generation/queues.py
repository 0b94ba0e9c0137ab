"""The Redis side of generations: RQ queues (two per model, so workers can serve chosen models
and paying users can go first), running-job leases and cancel flags.

A running generation's worker renews its lease every couple of seconds from a thread of its own
(so also during long steps); a lease missing for longer than it lasts means the worker is gone.
"""

import contextlib
import logging

from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from generation.line import line_join, line_leave
from generation.models import DiffusionModel, Generation
from rollerai.connections import redis_connection

log = logging.getLogger(__name__)

# Enqueued by dotted path so that the web tier never imports the worker (and so torch).
RUN_GENERATION_JOB = "worker.jobs.run_generation"
# A running generation is stopped by a flag its worker checks after every step.
CANCEL_FLAG_SECONDS = 3600


def _redis() -> Redis:
    return redis_connection()


def queue_name(model: DiffusionModel, *, high_priority: bool = False) -> str:
    return f"model-{model.slug}{'-high' if high_priority else ''}"


def model_queue(model: DiffusionModel, *, high_priority: bool = False) -> Queue:
    return Queue(queue_name(model, high_priority=high_priority), connection=_redis())


def model_queues(model: DiffusionModel) -> list[Queue]:
    """A model's queues in the order workers drain them: high priority first."""
    return [model_queue(model, high_priority=True), model_queue(model)]


def line_queues(model: DiffusionModel, *, high_priority_only: bool = False) -> list[str]:
    """The names of the queues a generation of `model` waits behind (and in), in the order
    workers drain them: a high-priority one only behind the other high-priority ones."""
    names = [queue_name(model, high_priority=True), queue_name(model)]
    return names[:1] if high_priority_only else names


def queue_length(model: DiffusionModel) -> int:
    return sum(queue.count for queue in model_queues(model))


def queued_job_ids(
    model: DiffusionModel, *, high_priority_only: bool = False, limit: int = -1
) -> list[str]:
    """The first `limit` (or all) jobs waiting for this model, in the order workers take them."""
    queues = model_queues(model)[:1] if high_priority_only else model_queues(model)
    job_ids: list[str] = []
    for queue in queues:
        wanted = limit - len(job_ids) if limit >= 0 else -1
        if wanted == 0:
            break
        job_ids += queue.get_job_ids(0, wanted)
    return job_ids


def _job_delete(job_id: str, connection: Redis) -> None:
    with contextlib.suppress(NoSuchJobError):
        # Also off its queue, so a generation put back twice is still in line only once.
        Job.fetch(job_id, connection=connection).delete(remove_from_queue=True)


def job_pending(generation_id: object) -> bool:
    """Whether RQ still has this generation's job waiting or being run."""
    try:
        job = Job.fetch(str(generation_id), connection=_redis())
    except NoSuchJobError:
        return False
    return job.get_status() in (JobStatus.QUEUED, JobStatus.STARTED)


def jobs_pending(generation_ids: list[str]) -> set[str]:
    """Which of these generations RQ has a job waiting or being run for, in one round trip."""
    pipeline = _redis().pipeline(transaction=False)
    for generation_id in generation_ids:
        pipeline.hget(Job.key_for(generation_id), "status")
    pending = {JobStatus.QUEUED.value, JobStatus.STARTED.value}
    return {
        generation_id
        for generation_id, status in zip(generation_ids, pipeline.execute(), strict=True)
        if status is not None and status.decode() in pending
    }


def generation_enqueue(generation: Generation) -> None:
    queue = model_queue(generation.model, high_priority=generation.high_priority)
    # A generation put back after its worker died still has the dead run's job; start afresh.
    _job_delete(str(generation.id), queue.connection)
    # One MULTI: the job and the generation's place in line appear together, in the same order.
    pipeline = queue.connection.pipeline()
    queue.enqueue_call(
        RUN_GENERATION_JOB,
        args=(str(generation.id),),
        job_id=str(generation.id),
        timeout=settings.GENERATION_JOB_TIMEOUT,
        # The generation row is the record users see; RQ only needs the job until it has run.
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        pipeline=pipeline,
    )
    line_join(pipeline, queue=queue.name, generation_id=str(generation.id), images=generation.count)
    pipeline.execute()


def generation_job_remove(generation: Generation) -> bool:
    """Take a waiting job off its queue; True if it was there (and so is now ours)."""
    queue = model_queue(generation.model, high_priority=generation.high_priority)
    removed = bool(queue.remove(str(generation.id)))
    if removed:
        _job_delete(str(generation.id), queue.connection)
        line_leave(queue.connection, queue=queue.name, generation_ids=[str(generation.id)])
    return removed


def line_leave_quietly(generation: Generation) -> None:
    """Take an ended generation out of line, if Redis answers: ending it must not depend on
    Redis (it may be why it ended), and one left behind is cleared once it reaches the front."""
    try:
        pipeline = _redis().pipeline()
        for queue in line_queues(generation.model):
            line_leave(pipeline, queue=queue, generation_ids=[str(generation.id)])
        pipeline.execute()
    except RedisError:
        log.warning("Could not take generation %s out of line", generation.id)


def generation_dequeued(*, queue: str, generation_id: str) -> None:
    """A worker has taken this generation's job off `queue`: it is no longer waiting in line."""
    line_leave(_redis(), queue=queue, generation_ids=[generation_id])


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


# When the reaper first saw each running generation without a lease (Redis server time).
LEASES_MISSING_SINCE = "generation:leases-missing-since"

# Renewing re-creates a lease that Redis lost (a restart or flush must not make a live run look
# dead), but never takes over a lease that another run of the generation now holds.
_RENEW = """
local held = redis.call('GET', KEYS[1])
if held == false or held == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""
# Only the run that holds a lease may drop it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def lease_seconds() -> int:
    return settings.GENERATION_LEASE_SECONDS


def lease_take(generation_id: object, *, run_token: str) -> None:
    _redis().set(_lease(generation_id), run_token, ex=lease_seconds())


def leases_renew(runs: dict[str, str]) -> set[str]:
    """Renew the leases of these runs ({generation id: run token}); returns the generations
    whose lease holds another run's token (the database then says which run is current)."""
    if not runs:
        return set()
    connection = _redis()
    renew = connection.register_script(_RENEW)
    pipeline = connection.pipeline(transaction=False)
    for generation_id, run_token in runs.items():
        renew(keys=[_lease(generation_id)], args=[run_token, lease_seconds()], client=pipeline)
    renewed = pipeline.execute()
    return {generation_id for generation_id, kept in zip(runs, renewed, strict=True) if not kept}


def lease_release(generation_id: object, *, run_token: str) -> None:
    if not run_token:
        return
    try:
        connection = _redis()
        connection.register_script(_RELEASE)(keys=[_lease(generation_id)], args=[run_token])
    except RedisError:
        # Nothing is lost: the lease runs out by itself, and a generation that has ended is
        # no longer looked at by the reaper. Failing here would undo the end being recorded.
        log.warning("Could not release the lease of %s; it will run out", generation_id)


def leases_lost(running: list[str]) -> list[str]:
    """Which of these running generations have had no lease for longer than a lease lasts.

    A lease that is merely missing proves nothing: Redis may have just restarted or been
    flushed, and the live worker re-creates its lease at its next renewal. So the first time one
    is seen missing is recorded (in Redis, so a restart forgets it too), and only a lease still
    missing a whole lease period later counts as lost. `running` must be every running
    generation: records of the others are dropped.
    """
    connection = _redis()
    pipeline = connection.pipeline(transaction=False)
    pipeline.time()
    pipeline.hgetall(LEASES_MISSING_SINCE)
    for generation_id in running:
        pipeline.exists(_lease(generation_id))
    (now, _), recorded, *held = pipeline.execute()
    missing = [gid for gid, exists in zip(running, held, strict=True) if not exists]
    since = {gid.decode(): int(first_seen) for gid, first_seen in recorded.items()}
    pipeline = connection.pipeline(transaction=False)
    for generation_id in missing:
        if generation_id not in since:
            since[generation_id] = now
            pipeline.hset(LEASES_MISSING_SINCE, generation_id, now)
    forgotten = set(since) - set(missing)
    if forgotten:
        pipeline.hdel(LEASES_MISSING_SINCE, *forgotten)
    pipeline.execute()
    return [gid for gid in missing if now - since[gid] > lease_seconds()]


def maintenance_turn(*, seconds: int) -> bool:
    """True for exactly one caller per period, so that many workers don't all reap at once."""
    return bool(_redis().set("generation:maintenance", 1, nx=True, ex=seconds))
