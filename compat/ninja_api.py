"""A NinjaAPI for one compatible API: every refusal (bad input, domain errors, no or a wrong
key, a body too large, a missing endpoint) answers in that API's own error shape."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from compat.errors import BodyTooLarge
from rollerai.api import JsonBodyParser
from rollerai.exceptions import DomainError, InvalidRequest, NotFound, NotSignedIn

DomainErrorResponse = Callable[[DomainError], HttpResponse]


class CompatApi(NinjaAPI):
    def __init__(
        self, *, refusal: DomainErrorResponse, not_signed_in: NotSignedIn, **options: Any
    ) -> None:
        super().__init__(parser=JsonBodyParser(), **options)
        self._refusal = refusal
        self._not_signed_in = not_signed_in
        for refused in (DomainError, HttpError, RequestDataTooBig, Http404, ValidationError):
            self.add_exception_handler(refused, self._refused)

    def _refused(self, request: HttpRequest, error: Exception | type[Exception]) -> HttpResponse:
        if isinstance(error, type):
            error = error()
        return self._refusal(self._as_domain_error(error))

    def _as_domain_error(self, error: Exception) -> DomainError:
        if isinstance(error, DomainError):
            return error
        if isinstance(error, AuthenticationError):
            return self._not_signed_in
        if isinstance(error, ValidationError):
            return _invalid(error)
        if isinstance(error, RequestDataTooBig):
            return BodyTooLarge("The request body is too large.")
        if isinstance(error, HttpError) and isinstance(error.__cause__, DomainError):
            # What the body parser refused, wrapped by ninja.
            return error.__cause__
        if isinstance(error, HttpError):
            return InvalidRequest(error.message)
        return NotFound("There is no such API endpoint.")


def _invalid(error: ValidationError) -> InvalidRequest:
    """The first mistake ninja found, on the field as the client named it."""
    first = error.errors[0]
    location = [str(part) for part in first.get("loc", ())]
    # ninja puts where the value came from first: ("body", "payload", "n"), ("form", "n").
    field = location[-1] if len(location) > 1 else None
    return InvalidRequest(
        f"{field or 'The request'}: {first.get('msg', 'is invalid')}", field=field
    )
