"""The RQ queues generations wait in: one per model, so workers can serve chosen models only."""

import django_rq
from django.conf import settings
from rq import Queue

from generation.models import DiffusionModel, Generation

# Enqueued by dotted path so that the web tier never imports the worker (and so torch).
RUN_GENERATION_JOB = "worker.jobs.run_generation"


def queue_name(model: DiffusionModel) -> str:
    return f"model-{model.slug}"


def model_queue(model: DiffusionModel) -> Queue:
    return Queue(queue_name(model), connection=django_rq.get_connection("default"))


def queue_length(model: DiffusionModel) -> int:
    return model_queue(model).count


def queue_position(generation: Generation) -> int | None:
    """1 for the next job a worker takes; None once it has left the queue."""
    index = model_queue(generation.model).get_job_position(str(generation.id))
    return None if index is None else index + 1


def generation_enqueue(generation: Generation) -> None:
    model_queue(generation.model).enqueue_call(
        RUN_GENERATION_JOB,
        args=(str(generation.id),),
        job_id=str(generation.id),
        timeout=settings.GENERATION_JOB_TIMEOUT,
        # The generation row is the record users see; RQ only needs the job until it has run.
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


# A running generation is stopped by a flag its worker checks after every step; an hour is far
# longer than any step takes.
CANCEL_FLAG_SECONDS = 3600


def _cancel_flag(generation_id: object) -> str:
    return f"generation:{generation_id}:cancel"


def generation_job_remove(generation: Generation) -> None:
    model_queue(generation.model).remove(str(generation.id))


def cancel_flag_set(generation_id: object) -> None:
    django_rq.get_connection("default").set(_cancel_flag(generation_id), 1, ex=CANCEL_FLAG_SECONDS)


def cancel_requested(generation_id: object) -> bool:
    return bool(django_rq.get_connection("default").exists(_cancel_flag(generation_id)))
