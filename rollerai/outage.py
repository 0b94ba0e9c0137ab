"""Answers 503, not 500, while PostgreSQL or Redis cannot be reached: the API in its JSON error
shape, pages with a plain page. It imports no app (only Django and redis-py), so nothing an
outage breaks can stop it from answering."""

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Writes happen in transactions, so a request cut off by an outage has changed nothing.
OUTAGE_MESSAGE = (
    "RollerAI is briefly unavailable. Nothing was charged; please try again in a minute."
)
OUTAGE_RETRY_AFTER_SECONDS = 30


class OutageMiddleware:
    """A request that needs the database or Redis while it restarts or fails over gets a 503
    saying to try again, instead of a 500 saying something broke."""

    # Only process_exception acts, so both of Django's modes pass through unchanged (a
    # synchronous-only middleware would put async views in a thread: rollerai.middleware).
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError | RedisError):
            return None
        # Without the traceback: during an outage every request would repeat it.
        log.warning("Answered 503 to %s %s: %r", request.method, request.path, exception)
        response: HttpResponse
        if request.path.startswith("/api/"):
            error = {"code": "service_unavailable", "message": OUTAGE_MESSAGE, "field": None}
            response = JsonResponse({"error": error}, status=503)
        else:
            response = HttpResponse(
                OUTAGE_MESSAGE, status=503, content_type="text/plain; charset=utf-8"
            )
        response["Retry-After"] = str(OUTAGE_RETRY_AFTER_SECONDS)
        return response
