"""JSON API for models and generations (DESIGN.md section 4): the schemas parse, one service or
selector acts, a schema answers."""

from typing import Annotated
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Router
from ninja.responses import Status
from pydantic import WithJsonSchema

from accounts.api_auth import authenticated_by_api_key
from generation import models
from generation.schemas import (
    Generation,
    GenerationListQuery,
    GenerationPage,
    GenerationRequest,
    Model,
    ModelList,
    UpscaleRequest,
    VariationsRequest,
    VisibilityChange,
)
from generation.selectors import (
    generation_filters_parse,
    generation_get_for_user,
    generation_page_for_user,
    models_enabled,
)
from generation.services import (
    generation_cancel,
    generation_delete,
    generation_submit,
    generation_upscale_submit,
    generation_variations_submit,
    generation_visibility_set,
)
from generation.services.submit import MAX_IDEMPOTENCY_KEY_LENGTH
from generation.standing import generation_standing
from rollerai.api import error_responses
from rollerai.auth import signed_in_user

router = Router(tags=["generations"])
# Documented here, checked (with NUL) by generation_submit, which also serves other callers.
IdempotencyKey = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH,
            "description": "A retry with the same key returns the first generation, charged once.",
        }
    ),
]
GENERATION_PATH = "/generations/{uuid:generation_id}"


def _answer(request: HttpRequest, generation_id: UUID) -> Generation:
    """The generation as it is now, read back (with its place in line) after any change."""
    generation = generation_get_for_user(user=request.user, generation_id=generation_id)
    return Generation.of(
        generation, standing=generation_standing(generation), absolute=request.build_absolute_uri
    )


def _origin(request: HttpRequest) -> str:
    # Scripts send an API key; the site's own pages call the API with the browser's session.
    if authenticated_by_api_key(request):
        return models.Generation.Origin.API
    return models.Generation.Origin.WEB


@router.get("/models", response={200: ModelList, **error_responses(401)})
def model_list(request: HttpRequest) -> ModelList:
    """The models you can choose from."""
    return ModelList(results=[Model.model_validate(model) for model in models_enabled()])


@router.post(
    "/generations",
    response={202: Generation, **error_responses(400, 401, 402, 404, 409, 413, 429)},
)
def generation_create(
    request: HttpRequest,
    payload: GenerationRequest,
    idempotency_key: Annotated[IdempotencyKey, Header("", alias="Idempotency-Key")] = "",
) -> Status[Generation]:
    """Ask for images; charges count x the model's credits per image (credits_per_image, or
    credits_per_image_to_image with an init_image)."""
    generation = generation_submit(
        user=signed_in_user(request),
        data=payload,
        idempotency_key=idempotency_key,
        origin=_origin(request),
    )
    return _accepted(request, generation)


def _accepted(request: HttpRequest, generation: models.Generation) -> Status[Generation]:
    # As recorded: a new generation changes only once a worker takes it, and a retry's comes
    # from the database; reading it back again would cost two more queries per submit.
    return Status(
        202,
        Generation.of(
            generation,
            standing=generation_standing(generation),
            absolute=request.build_absolute_uri,
        ),
    )


@router.post(
    GENERATION_PATH + "/variations",
    response={202: Generation, **error_responses(400, 401, 402, 404, 409, 429)},
)
def generation_variations(
    request: HttpRequest,
    generation_id: UUID,
    payload: VariationsRequest,
    idempotency_key: Annotated[IdempotencyKey, Header("", alias="Idempotency-Key")] = "",
) -> Status[Generation]:
    """Variations of one of its images (yours, or a public generation's): the same settings,
    a new seed, starting from that image; count x the model's credits_per_image_to_image."""
    generation = generation_variations_submit(
        user=signed_in_user(request),
        generation_id=generation_id,
        data=payload,
        idempotency_key=idempotency_key,
        origin=_origin(request),
    )
    return _accepted(request, generation)


@router.post(
    GENERATION_PATH + "/upscale",
    response={202: Generation, **error_responses(400, 401, 402, 404, 409, 429)},
)
def generation_upscale(
    request: HttpRequest,
    generation_id: UUID,
    payload: UpscaleRequest,
    idempotency_key: Annotated[IdempotencyKey, Header("", alias="Idempotency-Key")] = "",
) -> Status[Generation]:
    """One of its images (yours, or a public generation's) made again at twice the size, at
    most the model's max_width x max_height; the model's credits_per_upscale."""
    generation = generation_upscale_submit(
        user=signed_in_user(request),
        generation_id=generation_id,
        data=payload,
        idempotency_key=idempotency_key,
        origin=_origin(request),
    )
    return _accepted(request, generation)


@router.get("/generations", response={200: GenerationPage, **error_responses(400, 401)})
def generation_list(request: HttpRequest, filters: Query[GenerationListQuery]) -> GenerationPage:
    """Your generations, newest first."""
    page = generation_page_for_user(
        user=request.user,
        cursor=filters.cursor,
        limit=filters.limit,
        filters=generation_filters_parse(
            query=filters.q, model=filters.model, status=filters.status
        ),
    )
    return GenerationPage(
        results=[
            Generation.of(
                generation,
                standing=generation_standing(generation),
                absolute=request.build_absolute_uri,
            )
            for generation in page.generations
        ],
        next_cursor=page.next_cursor,
    )


@router.get(GENERATION_PATH, response={200: Generation, **error_responses(401, 404)})
def generation_detail(request: HttpRequest, generation_id: UUID) -> Generation:
    """One of your generations."""
    return _answer(request, generation_id)


@router.patch(GENERATION_PATH, response={200: Generation, **error_responses(400, 401, 404, 409)})
def generation_change(
    request: HttpRequest, generation_id: UUID, payload: VisibilityChange
) -> Generation:
    """Make it public (shareable) or private."""
    generation_visibility_set(
        user=signed_in_user(request), generation_id=generation_id, public=payload.public
    )
    return _answer(request, generation_id)


@router.delete(GENERATION_PATH, response={204: None, **error_responses(401, 404, 409)})
def generation_remove(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    """Delete it and its images (finished generations only)."""
    generation_delete(user=signed_in_user(request), generation_id=generation_id)
    return HttpResponse(status=204)


@router.post(
    GENERATION_PATH + "/cancel", response={200: Generation, **error_responses(401, 404, 409)}
)
def generation_cancel_request(request: HttpRequest, generation_id: UUID) -> Generation:
    """Cancel it and get its credits back."""
    generation = generation_cancel(user=signed_in_user(request), generation_id=generation_id)
    return _answer(request, generation.id)
