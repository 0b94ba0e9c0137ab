"""JSON API for models and generations (DESIGN.md section 4): thin callers of services."""

from django.http import HttpRequest, HttpResponse, JsonResponse

from generation.payloads import generation_payload, model_payload
from generation.selectors import (
    generation_get_for_user,
    generation_page_for_user,
    generation_position,
    models_enabled,
)
from generation.services import generation_cancel, generation_submit
from rollerai.api import api_endpoint, json_body, query_int
from rollerai.auth import signed_in_user


def _generation_response(request: HttpRequest, generation_id: object, status: int) -> JsonResponse:
    generation = generation_get_for_user(user=request.user, generation_id=generation_id)
    return JsonResponse(
        generation_payload(
            generation,
            position=generation_position(generation),
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
    )
    return JsonResponse(
        {
            "results": [
                generation_payload(
                    generation,
                    position=generation_position(generation),
                    absolute=request.build_absolute_uri,
                )
                for generation in page.generations
            ],
            "next_cursor": page.next_cursor,
        }
    )


def generation_detail(request: HttpRequest, generation_id: object) -> HttpResponse:
    return _generation_response(request, generation_id, status=200)


models = api_endpoint({"GET": model_list})
generations = api_endpoint({"GET": generation_list, "POST": generation_create})
generation = api_endpoint({"GET": generation_detail})
generation_cancel_endpoint = api_endpoint({"POST": generation_cancel_request})
