"""Read-only queries about models and generations, always scoped to the person asking."""

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet, Subquery

from generation.models import DiffusionModel, Generation, GenerationImage
from generation.schemas import request_fields
from rollerai.exceptions import InvalidRequest, NotFound


def models_enabled() -> QuerySet[DiffusionModel]:
    return DiffusionModel.objects.filter(enabled=True).order_by("created_at", "id")


def init_image_for_owner(*, user: Any, generation_id: Any) -> Generation:
    """A generation whose init image its owner asks for; nobody else may see it (an upload may
    be a private photo), and a generation without one is missing too."""
    generation = (
        Generation.objects.filter(id=generation_id, user_id=user.pk).exclude(init_image="").first()
        if user.is_authenticated
        else None
    )
    if generation is None:
        raise NotFound("No such image.")
    return generation


def generation_current_for_user(*, user: Any) -> Generation | None:
    """The user's generation that is being made now: the oldest running one, else the one of
    theirs first in line (what a client that makes one image at a time is waiting for)."""
    unfinished = Generation.objects.select_related("model").filter(user_id=user.pk)
    for status in (Generation.Status.RUNNING, Generation.Status.QUEUED):
        generation = unfinished.filter(status=status).order_by("created_at").first()
        if generation is not None:
            return generation
    return None


def generation_get_for_user(*, user: Any, generation_id: Any) -> Generation:
    """The user's own generation; anybody else's is reported as missing so ids can't be probed."""
    generation = (
        Generation.objects.select_related("model", "source_image__generation")
        .prefetch_related("images")
        .filter(id=generation_id, user_id=user.pk)
        .first()
    )
    if generation is None:
        raise NotFound("No such generation.")
    return generation


def image_for_viewer(*, user: Any, generation_id: Any, index: int) -> GenerationImage:
    """An image its owner may always see, and anybody may see while its generation is public.

    Everything else is missing, so that nobody learns that a private image exists.
    """
    visible = Q(generation__is_public=True)
    if user.is_authenticated:
        visible |= Q(generation__user_id=user.pk)
    image = (
        GenerationImage.objects.select_related("generation__model")
        .filter(visible, generation_id=generation_id, index=index)
        .first()
    )
    if image is None:
        raise NotFound("No such image.")
    return image


MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class GenerationFilters:
    """What a gallery or API list is narrowed to: words of the prompt, a model, a status, the
    owner's favourites."""

    words: tuple[str, ...] = ()
    model: str = ""
    status: str = ""
    favourites: bool = False

    @property
    def active(self) -> bool:
        return bool(self.words or self.model or self.status or self.favourites)


def generation_filters_parse(
    *, query: str | None, model: str | None, status: str | None, favourites: bool = False
) -> GenerationFilters:
    """Filters from a query string: `q` (every word must appear in the prompt), `model` (a
    slug), `status` and whether to show only favourites."""
    status = (status or "").strip()
    if status and status not in Generation.Status.values:
        raise InvalidRequest(
            f"'status' must be one of: {', '.join(Generation.Status.values)}.",
            code="invalid_choice",
            field="status",
        )
    words = tuple(dict.fromkeys((query or "").lower().split()))
    if len(words) > MAX_SEARCH_WORDS:
        raise InvalidRequest(
            f"Search for at most {MAX_SEARCH_WORDS} words at a time.",
            code="too_many_words",
            field="q",
        )
    return GenerationFilters(
        words=words, model=(model or "").strip(), status=status, favourites=favourites
    )


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


def _page_after(
    generations: QuerySet[Generation], *, cursor: str | None, limit: int, oldest: bool = False
) -> GenerationPage:
    """Keyset pagination on (created_at, id), newest first (or oldest first): a deep page costs
    what the first one does, and rows created meanwhile never shift a page."""
    if oldest:
        generations = generations.order_by("created_at", "id")
    else:
        generations = generations.order_by("-created_at", "-id")
    if cursor:
        created_at, generation_id = _cursor_decode(cursor)
        # The first condition is implied by the second; it is there because it is a plain range
        # on the index, so the scan starts at the cursor instead of filtering its way to it.
        if oldest:
            generations = generations.filter(created_at__gte=created_at).filter(
                Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=generation_id)
            )
        else:
            generations = generations.filter(created_at__lte=created_at).filter(
                Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=generation_id)
            )
    rows = list(generations[: limit + 1])
    next_cursor = _cursor_encode(rows[limit - 1]) if len(rows) > limit else None
    return GenerationPage(generations=rows[:limit], next_cursor=next_cursor)


def generation_page_for_user(
    *,
    user: Any,
    cursor: str | None,
    limit: int,
    filters: GenerationFilters | None = None,
    oldest: bool = False,
) -> GenerationPage:
    """One page of the user's generations, newest (or oldest) first, continuing after
    `cursor`."""
    generations = (
        Generation.objects.filter(user_id=user.pk)
        .select_related("model", "source_image")
        .prefetch_related("images")
    )
    if filters is not None:
        # Each word is a case-insensitive substring match; on PostgreSQL a trigram index on
        # UPPER(prompt) (migration 0003) serves them, as Django compares in upper case.
        for word in filters.words:
            generations = generations.filter(prompt__icontains=word)
        if filters.model:
            # A subquery rather than a join, so that the (user, model, newest) index applies.
            generations = generations.filter(
                model_id=Subquery(DiffusionModel.objects.filter(slug=filters.model).values("id"))
            )
        if filters.status:
            generations = generations.filter(status=filters.status)
        if filters.favourites:
            generations = generations.filter(favourite=True)
    return _page_after(generations, cursor=cursor, limit=limit, oldest=oldest)


def generation_page_public(*, cursor: str | None, limit: int) -> GenerationPage:
    """Recently shared generations of everybody, newest first (the Explore page)."""
    generations = (
        Generation.objects.filter(is_public=True).select_related("model").prefetch_related("images")
    )
    return _page_after(generations, cursor=cursor, limit=limit)


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
