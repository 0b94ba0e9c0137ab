"""The JSON API's plumbing: authentication, CSRF for cookie sessions, bodies and the error shape.

Domain errors are mapped to HTTP statuses here and nowhere else.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from accounts.services import api_key_authenticate
from rollerai.exceptions import (
    Conflict,
    DomainError,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    RateLimited,
    Unavailable,
)
from rollerai.request_input import json_parse

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidRequest: 400,
    InsufficientCredits: 402,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    Unavailable: 503,
}

View = Callable[..., HttpResponse]


def domain_error_response(error: DomainError) -> JsonResponse:
    """The one mapping from domain errors to HTTP: status, JSON error shape, Retry-After."""
    status = next(
        (status for kind, status in STATUS_BY_ERROR.items() if isinstance(error, kind)), 400
    )
    response = error_response(status, error.code, error.message, error.field)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


def error_response(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "field": field}}, status=status
    )


def _csrf_rejected(request: HttpRequest) -> bool:
    return (
        CsrfViewMiddleware(lambda _request: HttpResponse()).process_view(
            request, lambda _request: HttpResponse(), (), {}
        )
        is not None
    )


def api_endpoint(methods: dict[str, View]) -> View:
    """One URL of the API: dispatches by method to views that may raise domain errors."""

    @csrf_exempt
    def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        view = methods.get(request.method or "")
        if view is None:
            response = error_response(
                405, "method_not_allowed", f"{request.method} is not allowed here."
            )
            response["Allow"] = ", ".join(methods)
            return response
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            scheme, _, key = authorization.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                return error_response(
                    401, "invalid_authorization", "Send the key as 'Authorization: Bearer <key>'."
                )
            key_user = api_key_authenticate(key.strip())
            if key_user is None:
                return error_response(
                    401, "invalid_api_key", "This API key is unknown or has been revoked."
                )
            request.user = key_user
        elif not request.user.is_authenticated:
            return error_response(401, "not_authenticated", "Sign in to use the API.")
        # Cookies are sent by browsers on their own, so cookie-authenticated writes must carry
        # the CSRF token too; an API key is never sent implicitly.
        elif request.method not in ("GET", "HEAD", "OPTIONS") and _csrf_rejected(request):
            return error_response(403, "csrf_failed", "The CSRF token is missing or wrong.")
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return domain_error_response(error)
        except RequestDataTooBig:
            return error_response(413, "body_too_large", "The request body is too large.")

    return wraps(next(iter(methods.values())))(endpoint)


def json_body(request: HttpRequest) -> Any:
    if request.content_type != "application/json":
        raise InvalidRequest(
            "Send the request body as JSON with Content-Type: application/json.",
            code="unsupported_content_type",
        )
    return json_parse(request.body)


def query_int(request: HttpRequest, name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"'{name}' must be a whole number.", code="not_an_integer", field=name)
    if not minimum <= value <= maximum:
        raise InvalidRequest(
            f"'{name}' must be between {minimum} and {maximum}.", code="out_of_range", field=name
        )
    return value


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404s under /api/ answer in the API's error shape; pages keep Django's own 404 page."""
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", "There is no such API endpoint.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """The error is logged by Django; API clients still get the API's error shape."""
    if request.path.startswith("/api/"):
        return error_response(500, "server_error", "Something went wrong on our side.")
    return defaults.server_error(request)
