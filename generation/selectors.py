"""Read-only queries about models and generations, always scoped to the person asking."""

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from generation.models import DiffusionModel, Generation
from generation.queues import queue_position
from rollerai.exceptions import InvalidRequest, NotFound


def models_enabled() -> QuerySet[DiffusionModel]:
    return DiffusionModel.objects.filter(enabled=True).order_by("created_at", "id")


def generation_get_for_user(*, user: Any, generation_id: Any) -> Generation:
    """The user's own generation; anybody else's is reported as missing so ids can't be probed."""
    generation = (
        Generation.objects.select_related("model")
        .prefetch_related("images")
        .filter(id=generation_id, user_id=user.pk)
        .first()
    )
    if generation is None:
        raise NotFound("No such generation.")
    return generation


def generation_position(generation: Generation) -> int | None:
    if generation.status != Generation.Status.QUEUED:
        return None
    return queue_position(generation)


@dataclass(frozen=True)
class GenerationPage:
    generations: list[Generation]
    next_cursor: str | None


def _cursor_encode(generation: Generation) -> str:
    raw = f"{generation.created_at.isoformat()}|{generation.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _cursor_decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, generation_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created_at), uuid.UUID(generation_id)
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidRequest("The cursor is not valid.", code="invalid_cursor", field="cursor")


def generation_page_for_user(*, user: Any, cursor: str | None, limit: int) -> GenerationPage:
    """One page of the user's generations, newest first, continuing after `cursor`.

    Keyset pagination on (created_at, id) keeps deep pages as fast as the first one.
    """
    generations = (
        Generation.objects.filter(user_id=user.pk)
        .select_related("model")
        .prefetch_related("images")
        .order_by("-created_at", "-id")
    )
    if cursor:
        created_at, generation_id = _cursor_decode(cursor)
        generations = generations.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=generation_id)
        )
    rows = list(generations[: limit + 1])
    next_cursor = _cursor_encode(rows[limit - 1]) if len(rows) > limit else None
    return GenerationPage(generations=rows[:limit], next_cursor=next_cursor)
