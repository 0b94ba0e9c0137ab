"""Refuses, before any view reads them, request bodies over their path's size limit (413) and
query strings and form fields the database could not store (400): in the API's error shape under
/api/, a plain page elsewhere."""

from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from rollerai.api import api_error_response, error_response
from rollerai.exceptions import InvalidRequest
from rollerai.request_input import text_check

FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
# The requests that may carry an image (a start image for image-to-image), with their own limit:
# the JSON API's submit, and the compatible APIs' edits, variations and img2img.
IMAGE_PATHS = {
    "/api/v1/generations",
    "/v1/images/edits",
    "/v1/images/variations",
    "/sdapi/v1/img2img",
}


def body_limit(request: HttpRequest) -> int:
    if request.method == "POST" and request.path in IMAGE_PATHS:
        return int(settings.MAX_SUBMIT_BODY_BYTES)
    return int(settings.MAX_REQUEST_BODY_BYTES)


class RequestCheck:
    """A middleware that may refuse a request before the view, in either of Django's modes.

    Under ASGI a middleware that can only run synchronously makes Django run the whole chain,
    the view included, in a thread; an async view (the compatible APIs, which wait for images)
    would then hold that thread for its whole wait. The checks here only look at the request,
    so they run the same in both modes."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        raise NotImplementedError

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        return self.refusal(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self.refusal(request) or await self.get_response(request)


class RequestBodyLimitMiddleware(RequestCheck):
    """Each path's own body limit, from the Content-Length, before anything reads the body.
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE is the largest of them, and still catches a body
    longer than its Content-Length said."""

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > body_limit(request):
            return _too_large(request)
        return None


def _too_large(request: HttpRequest) -> HttpResponse:
    message = "The request body is too large."
    # In the API's shape for an API, JSON for any client that sent JSON (the Stripe webhook's
    # sender too).
    shaped = api_error_response(request, 413, "body_too_large", message)
    if shaped is not None:
        return shaped
    if request.content_type == "application/json":
        return error_response(413, "body_too_large", message)
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


class RequestTextMiddleware(RequestCheck):
    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        try:
            for name, text in _request_texts(request):
                text_check(text, field=name)
        except InvalidRequest as error:
            return _refusal(request, error)
        return None


def _refusal(request: HttpRequest, error: InvalidRequest) -> HttpResponse:
    shaped = api_error_response(request, 400, error.code, error.message, error.field)
    if shaped is not None:
        return shaped
    return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")
