"""Read-only queries of the gallery: shared generations and a generation's timings."""

from datetime import timedelta

from generation.models import Generation
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


def generation_timings(generation: Generation) -> dict[str, timedelta | None]:
    """How long it waited in the queue and how long the worker took."""
    started, finished = generation.started_at, generation.finished_at
    return {
        "waited": started - generation.created_at if started else None,
        "ran": finished - started if started and finished else None,
    }
