"""Refuses, before any view reads them, request bodies over their path's size limit (413) and
query strings and form fields the database could not store (400): in the API's error shape under
/api/, a plain page elsewhere."""

from collections.abc import Callable, Iterator
from contextlib import suppress

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from rollerai.api import error_response
from rollerai.exceptions import InvalidRequest
from rollerai.request_input import text_check

FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
# The one request that may carry an image (an init image as a data URL), with its own limit.
SUBMIT_PATH = "/api/v1/generations"


def body_limit(request: HttpRequest) -> int:
    if request.method == "POST" and request.path == SUBMIT_PATH:
        return int(settings.MAX_SUBMIT_BODY_BYTES)
    return int(settings.MAX_REQUEST_BODY_BYTES)


class RequestBodyLimitMiddleware:
    """Each path's own body limit, from the Content-Length, before anything reads the body.
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE is the largest of them, and still catches a body
    longer than its Content-Length said."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > body_limit(request):
            return _too_large(request)
        return self.get_response(request)


def _too_large(request: HttpRequest) -> HttpResponse:
    # JSON for the API and for any client that sent JSON (the Stripe webhook's sender too).
    if request.path.startswith("/api/") or request.content_type == "application/json":
        return error_response(413, "body_too_large", "The request body is too large.")
    return HttpResponse(
        "The request body is too large.", status=413, content_type="text/plain; charset=utf-8"
    )


def _request_texts(request: HttpRequest) -> Iterator[tuple[str, str]]:
    fields = list(request.GET.lists())
    if request.content_type in FORM_CONTENT_TYPES:
        # A body over the limit is left to the view, which answers 413 in its own way.
        with suppress(RequestDataTooBig):
            fields += list(request.POST.lists())
    for name, values in fields:
        yield name, name
        for value in values:
            yield name, value


class RequestTextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            for name, text in _request_texts(request):
                text_check(text, field=name)
        except InvalidRequest as error:
            return _refusal(request, error)
        return self.get_response(request)


def _refusal(request: HttpRequest, error: InvalidRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(400, error.code, error.message, error.field)
    return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")
