"""The JSON API's plumbing: the error shape, the one mapping of domain errors and of schema
mistakes to it, the JSON body parser and the NinjaAPI that answers every refusal in that shape.

Domain errors are mapped to HTTP statuses here and nowhere else. This module imports no app: the
API is assembled from the apps' routers in rollerai/urls.py.
"""

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, URLResolver
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationErrorContext
from ninja.parser import Parser
from pydantic import ConfigDict

from rollerai.exceptions import (
    Conflict,
    DomainError,
    Forbidden,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    NotSignedIn,
    RateLimited,
    Unavailable,
)
from rollerai.request_input import json_parse

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidRequest: 400,
    NotSignedIn: 401,
    InsufficientCredits: 402,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    Unavailable: 503,
}

# What each kind of schema mistake is called in the contract, and what it tells the user.
# `{label}` is the field as the user wrote it; the other names come from the error's context.
REFUSALS: dict[str, tuple[str, str]] = {
    "missing": ("required", "{label} is required."),
    "required": ("required", "{label} is required."),
    "extra_forbidden": ("unknown_field", "Unknown field '{name}'."),
    "string_type": ("not_text", "{label} must be text."),
    "too_long": ("too_long", "{label} must be at most {max_length} characters (it has {length})."),
    "control_characters": (
        "control_characters",
        "{label} must not contain control characters such as line breaks or tabs.",
    ),
    "string_pattern_mismatch": ("not_a_slug", "{label} must be a slug: letters, digits, - and _."),
    "int_type": ("not_an_integer", "{label} must be a whole number."),
    "int_parsing": ("not_an_integer", "{label} must be a whole number."),
    "int_from_float": ("not_an_integer", "{label} must be a whole number."),
    "float_type": ("not_a_number", "{label} must be a number."),
    "float_parsing": ("not_a_number", "{label} must be a number."),
    "finite_number": ("not_a_number", "{label} must be a number."),
    "bool_type": ("invalid", "{label} must be true or false."),
    "bool_parsing": ("invalid", "{label} must be true or false."),
    "out_of_range": ("out_of_range", "{label} must be between {minimum} and {maximum}."),
    "literal_error": ("invalid_choice", "{label} must be one of: {choices}."),
    "enum": ("invalid_choice", "{label} must be one of: {choices}."),
}
# Mistakes about the body as a whole rather than one of its fields.
BODY_REFUSALS: dict[str, tuple[str, str]] = {
    "missing": ("malformed_json", "The request body is not valid JSON."),
}
NOT_AN_OBJECT = ("invalid_body", "The request body must be a JSON object.")
UNKNOWN_MISTAKE = ("invalid", "{label} is not valid.")


class ErrorDetail(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    field: str | None


class Error(Schema):
    """Every refusal: {"error": {"code", "message", "field"}}."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int, type[Error]]:
    """The `response=` entries that document an endpoint's refusals."""
    return dict.fromkeys(statuses, Error)


def error_response(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "field": field}}, status=status
    )


# (status, code, message, field) -> the refusal, in one API's own error shape.
ErrorShape = Callable[[int, str, str, str | None], HttpResponse]
# Other APIs this site speaks (the compat app's), by path prefix, registered when they load.
_error_shapes: dict[str, ErrorShape] = {"/api/": error_response}


def error_shape_register(prefix: str, shape: ErrorShape) -> None:
    _error_shapes[prefix] = shape


def api_error_response(
    request: HttpRequest, status: int, code: str, message: str, field: str | None = None
) -> HttpResponse | None:
    """A refusal in the error shape of the API the request was sent to; None for pages."""
    for prefix, shape in _error_shapes.items():
        if request.path.startswith(prefix):
            return shape(status, code, message, field)
    return None


def domain_error_response(error: DomainError) -> JsonResponse:
    """The one mapping from domain errors to HTTP: status, JSON error shape, Retry-After."""
    status = next(
        (status for kind, status in STATUS_BY_ERROR.items() if isinstance(error, kind)), 400
    )
    response = error_response(status, error.code, error.message, error.field)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


def json_body(request: HttpRequest) -> Any:
    if request.content_type != "application/json":
        raise InvalidRequest(
            "Send the request body as JSON with Content-Type: application/json.",
            code="unsupported_content_type",
        )
    return json_parse(request.body)


class JsonBodyParser(Parser):
    """Bodies are JSON only, and checked by json_parse for what the database cannot store."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json_body(request)


# Body fields whose label on the form is not their name in words.
FORM_LABELS = {"count": "Images"}


def _label(source: str, name: str) -> str:
    # Body fields read as words ("Negative prompt"), as on the form; query and header names are
    # quoted as they appear in the URL or request.
    if source == "body":
        return FORM_LABELS.get(name, name.replace("_", " ").capitalize())
    return f"'{name}'"


def _refusal(source: str, error: dict[str, Any], overrides: dict[str, str]) -> InvalidRequest:
    """One pydantic error, said in the contract's words."""
    path = [str(part) for part in error["loc"]]
    kind = error["type"]
    # A body's errors are located under its parameter name; anything shorter is the body itself.
    field_path = path[1:] if source == "body" else path
    if source == "body" and not field_path:
        code, template = BODY_REFUSALS.get(kind, NOT_AN_OBJECT)
        return InvalidRequest(template, code=code)
    name = field_path[0]
    code, template = REFUSALS.get(kind, UNKNOWN_MISTAKE)
    context = {**error.get("ctx", {}), "label": _label(source, name), "name": name}
    if "expected" in context:
        context["choices"] = ", ".join(re.findall(r"'([^']*)'", str(context["expected"])))
    return InvalidRequest(template.format(**context), code=overrides.get(kind, code), field=name)


def _overrides(context: ValidationErrorContext[Any], error: Any) -> dict[str, str]:
    """A schema's own codes for some mistakes (`refusal_codes`), where its contract differs."""
    field = context.model.model_fields.get(str(error["loc"][0])) if error["loc"] else None
    return getattr(field.annotation, "refusal_codes", {}) if field is not None else {}


class JsonApi(NinjaAPI):
    """A NinjaAPI whose every refusal (bad input, domain errors, 401, 404, 405, 413) has the
    error shape."""

    def __init__(self, **options: Any) -> None:
        super().__init__(parser=JsonBodyParser(), **options)
        for refused in (DomainError, HttpError, RequestDataTooBig, Http404):
            self.add_exception_handler(refused, refusal_response)

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext[Any]]
    ) -> Any:
        # Pydantic reports every mistake; the contract answers with one, unknown fields first
        # (they are likely what caused the rest).
        refusals = [
            (error["type"] != "extra_forbidden", context, error)
            for context in error_contexts
            for error in context.pydantic_validation_error.errors(include_url=False)
        ]
        _, context, error = min(refusals, key=lambda refusal: refusal[0])
        model = context.model
        flattened = model.__ninja_flatten_map_reverse__.get(error["loc"], error["loc"])
        located = {**error, "loc": flattened}
        raise _refusal(str(model.__ninja_param_source__), located, _overrides(context, error))

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        return [_in_error_shape(pattern) for pattern in patterns], app_name, namespace


def refusal_response(request: HttpRequest, error: Exception | type[Exception]) -> HttpResponse:
    """The one exception handler of the API: every refusal in the error shape."""
    if isinstance(error, DomainError):
        return domain_error_response(error)
    if isinstance(error, AuthenticationError):
        return error_response(401, "not_authenticated", "Sign in to use the API.")
    if isinstance(error, RequestDataTooBig):
        return error_response(413, "body_too_large", "The request body is too large.")
    # Ninja wraps what the body parser raises in an HttpError; the parser's own refusal is
    # the answer.
    if isinstance(error, HttpError) and isinstance(error.__cause__, DomainError):
        return domain_error_response(error.__cause__)
    if isinstance(error, HttpError):
        return error_response(error.status_code, "invalid", error.message)
    return endpoint_missing(request)


def _in_error_shape(pattern: URLResolver | URLPattern) -> URLResolver | URLPattern:
    """The same route, with ninja's plain-text 405 and its Http404s in the error shape."""
    if not isinstance(pattern, URLPattern):
        return pattern
    view = pattern.callback

    @wraps(view)
    def shaped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = view(request, *args, **kwargs)
        except Http404:
            return endpoint_missing(request)
        if isinstance(response, HttpResponseNotAllowed):
            refusal = error_response(
                405, "method_not_allowed", f"{request.method} is not allowed here."
            )
            refusal["Allow"] = response["Allow"]
            return refusal
        return response

    return URLPattern(pattern.pattern, shaped, pattern.default_args, pattern.name)


@csrf_exempt
def endpoint_missing(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any path under /api/ that no endpoint serves, whatever DEBUG says."""
    return error_response(404, "not_found", "There is no such API endpoint.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404s under an API's prefix answer in its error shape; pages get templates/404.html."""
    shaped = api_error_response(request, 404, "not_found", "There is no such API endpoint.")
    return shaped or defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """The error is logged by Django; API clients still get their API's error shape, pages
    templates/500.html, rendered without a request context (which may be what failed)."""
    shaped = api_error_response(request, 500, "server_error", "Something went wrong on our side.")
    return shaped or defaults.server_error(request)
