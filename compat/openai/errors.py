"""Refusals in OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, with
the statuses its SDKs expect.

Out of credits is a 429 with type and code `insufficient_quota`, as OpenAI's own API answers
when an account's quota is spent: clients made for OpenAI show that message as it is. Every
refusal that a retry cannot cure says `x-should-retry: false`, which OpenAI's SDKs obey (they
otherwise retry 409, 429 and 5xx), so a failed or timed-out generation is never asked for
again behind the user's back; rate limits and outages, where nothing was charged, may be."""

from django.http import HttpResponse, JsonResponse

from compat.errors import status_of
from rollerai.exceptions import DomainError, InsufficientCredits, RateLimited, Unavailable

# The site's field -> OpenAI's parameter.
PARAMS = {"width": "size", "height": "size", "count": "n", "init_image": "image"}
# The site's codes -> OpenAI's, where OpenAI has one.
CODES = {
    "unknown_model": "model_not_found",
    "rate_limited": "rate_limit_exceeded",
    "insufficient_credits": "insufficient_quota",
}


def _type(status: int, code: str) -> str:
    if code == "insufficient_quota":
        return "insufficient_quota"
    if status == 429:
        return "requests"
    return "server_error" if status >= 500 else "invalid_request_error"


def openai_error_response(
    status: int, code: str, message: str, field: str | None = None
) -> HttpResponse:
    code = CODES.get(code, code)
    param = PARAMS.get(field, field) if field else None
    body = {"message": message, "type": _type(status, code), "param": param, "code": code}
    response = JsonResponse({"error": body}, status=status)
    if status not in (429, 503) or code == "insufficient_quota":
        response["x-should-retry"] = "false"
    return response


def openai_domain_error(error: DomainError) -> HttpResponse:
    status = status_of(error)
    if isinstance(error, InsufficientCredits):
        status = 429
    elif error.code == "unknown_model":
        status = 404
    response = openai_error_response(status, error.code, error.message, error.field)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    elif isinstance(error, Unavailable):
        response["Retry-After"] = "30"
    return response
