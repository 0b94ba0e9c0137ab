"""Cancelling a generation its owner no longer wants, waiting or running, with a refund."""

from typing import Any

from django.contrib.auth.models import User

from generation.models import Generation
from generation.queues import cancel_flag_set, generation_job_remove
from generation.services.standings import standings_publish
from generation.services.transitions import generation_end
from rollerai.exceptions import Conflict, NotFound

Status = Generation.Status


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
            if generation_end(
                generation_id=generation.id, from_statuses=(Status.QUEUED,), status=Status.CANCELED
            ):
                generation_job_remove(generation)
                standings_publish(generation.model)
                break
        elif generation.status == Status.RUNNING:
            cancel_flag_set(generation.id)
            if generation_end(
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
