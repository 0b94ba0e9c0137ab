"""Read-only queries of the gallery: shared generations, a generation's timings and the
generation it was made from."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.urls import reverse

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


@dataclass(frozen=True)
class SourceLink:
    url: str
    prompt: str


def generation_source_link(generation: Generation, *, user: Any) -> SourceLink | None:
    """The page of the generation whose image this one started from, as `user` may see it:
    their own in their gallery, anybody's while it is shared; None when there is no such page
    (an upload, a deleted image, one no longer shared)."""
    image = generation.source_image
    if image is None:
        return None
    source = image.generation
    if source.user_id == user.pk:
        url = reverse("gallery-detail", args=[source.id])
    elif source.is_public and source.share_token:
        url = reverse("gallery-share", args=[source.share_token])
    else:
        return None
    return SourceLink(url=url, prompt=source.prompt)
