"""Read-only queries of the gallery: shared generations, remix values and a generation's timings."""

import uuid
from datetime import timedelta
from typing import Any

from django.db.models import Q

from generation.models import Generation
from generation.schemas import request_fields
from rollerai.exceptions import NotFound


def generation_shared(*, share_token: str) -> Generation:
    """A public generation by its share token; a private one is missing, like an unknown one."""
    generation = (
        Generation.objects.select_related("model")
        .prefetch_related("images")
        .filter(share_token=share_token, is_public=True)
        .first()
    )
    if generation is None:
        raise NotFound("No such generation.")
    return generation


def remix_form_values(*, user: Any, generation_id: Any, same_seed: bool) -> dict[str, Any] | None:
    """The generate form's values for a remix of the user's own or a public generation: the same
    settings, and a new (random) seed unless the same one is asked for. None if there is no such
    generation to remix."""
    try:
        generation_uuid = uuid.UUID(str(generation_id))
    except ValueError:
        return None
    generation = (
        Generation.objects.select_related("model")
        .filter(Q(user_id=user.pk) | Q(is_public=True), id=generation_uuid)
        .first()
    )
    if generation is None:
        return None
    return {
        "id": str(generation.id),
        **request_fields(generation),
        "seed": generation.seed if same_seed else None,
    }


def generation_timings(generation: Generation) -> dict[str, timedelta | None]:
    """How long it waited in the queue and how long the worker took."""
    started, finished = generation.started_at, generation.finished_at
    return {
        "waited": started - generation.created_at if started else None,
        "ran": finished - started if started and finished else None,
    }
