"""JSON API for models and generations (DESIGN.md section 4): thin callers of services."""

from django.http import HttpRequest, HttpResponse, JsonResponse

from generation.payloads import generation_payload, model_payload
from generation.selectors import (
    generation_filters_parse,
    generation_get_for_user,
    generation_page_for_user,
    models_enabled,
)
from generation.services import generation_cancel, generation_submit
from generation.services.library import generation_delete, generation_visibility_set
from generation.standing import generation_standing
from rollerai.api import api_endpoint, json_body, query_int
from rollerai.auth import signed_in_user
from rollerai.exceptions import InvalidRequest

# What PATCH /api/v1/generations/<id> may change.
CHANGEABLE_FIELDS = {"public"}


def _generation_response(request: HttpRequest, generation_id: object, status: int) -> JsonResponse:
    generation = generation_get_for_user(user=request.user, generation_id=generation_id)
    return JsonResponse(
        generation_payload(
            generation,
            standing=generation_standing(generation),
            absolute=request.build_absolute_uri,
        ),
        status=status,
    )


def model_list(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"results": [model_payload(model) for model in models_enabled()]})


def generation_create(request: HttpRequest) -> HttpResponse:
    generation = generation_submit(
        user=signed_in_user(request),
        data=json_body(request),
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    return _generation_response(request, generation.id, status=202)


def generation_cancel_request(request: HttpRequest, generation_id: object) -> HttpResponse:
    generation = generation_cancel(user=signed_in_user(request), generation_id=generation_id)
    return _generation_response(request, generation.id, status=200)


def generation_list(request: HttpRequest) -> HttpResponse:
    page = generation_page_for_user(
        user=request.user,
        cursor=request.GET.get("cursor"),
        limit=query_int(request, "limit", default=20, minimum=1, maximum=100),
        filters=generation_filters_parse(
            query=request.GET.get("q"),
            model=request.GET.get("model"),
            status=request.GET.get("status"),
        ),
    )
    return JsonResponse(
        {
            "results": [
                generation_payload(
                    generation,
                    standing=generation_standing(generation),
                    absolute=request.build_absolute_uri,
                )
                for generation in page.generations
            ],
            "next_cursor": page.next_cursor,
        }
    )


def generation_detail(request: HttpRequest, generation_id: object) -> HttpResponse:
    return _generation_response(request, generation_id, status=200)


def generation_change(request: HttpRequest, generation_id: object) -> HttpResponse:
    body = json_body(request)
    if not isinstance(body, dict):
        raise InvalidRequest('Send a JSON object, e.g. {"public": true}.', code="invalid_body")
    unknown = sorted(set(body) - CHANGEABLE_FIELDS)
    if unknown:
        raise InvalidRequest(
            f"'{unknown[0]}' cannot be changed; only 'public' can.",
            code="unknown_field",
            field=unknown[0],
        )
    if not isinstance(body.get("public"), bool):
        raise InvalidRequest("'public' must be true or false.", code="invalid", field="public")
    generation_visibility_set(
        user=signed_in_user(request), generation_id=generation_id, public=body["public"]
    )
    return _generation_response(request, generation_id, status=200)


def generation_remove(request: HttpRequest, generation_id: object) -> HttpResponse:
    generation_delete(user=signed_in_user(request), generation_id=generation_id)
    return HttpResponse(status=204)


models = api_endpoint({"GET": model_list})
generations = api_endpoint({"GET": generation_list, "POST": generation_create})
generation = api_endpoint(
    {"GET": generation_detail, "PATCH": generation_change, "DELETE": generation_remove}
)
generation_cancel_endpoint = api_endpoint({"POST": generation_cancel_request})
