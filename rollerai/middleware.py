"""Refuses query strings and form fields the database could not store, before any view reads
them: a 400 in the API's error shape under /api/, a plain 400 page elsewhere."""

from collections.abc import Callable, Iterator
from contextlib import suppress

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from rollerai.api import error_response
from rollerai.exceptions import InvalidRequest
from rollerai.request_input import text_check

FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


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
