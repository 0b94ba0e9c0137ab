"""Refusals in the shapes AUTOMATIC1111's API (FastAPI) answers with: a field's mistake is a 422
`{"detail": [{"loc", "msg", "type"}]}`, anything else `{"error", "detail", "body", "errors"}`.
Clients such as `webuiapi` raise on any status but 200 and show the body."""

from django.http import HttpResponse, JsonResponse

from compat.errors import status_of
from rollerai.exceptions import DomainError, InvalidRequest, NotSignedIn, RateLimited

# The site's field -> AUTOMATIC1111's.
FIELDS = {
    "count": "batch_size",
    "guidance": "cfg_scale",
    "sampler": "sampler_name",
    "init_image": "init_images",
    "strength": "denoising_strength",
    "model": "sd_model_checkpoint",
}


def sdapi_error_response(
    status: int, code: str, message: str, field: str | None = None
) -> HttpResponse:
    if field is not None and status in (400, 422):
        name = FIELDS.get(field, field)
        detail = [{"loc": ["body", name], "msg": message, "type": code}]
        return JsonResponse({"detail": detail}, status=422)
    return JsonResponse(
        {"error": code, "detail": message, "body": "", "errors": message}, status=status
    )


def sdapi_domain_error(error: DomainError) -> HttpResponse:
    status = 422 if isinstance(error, InvalidRequest) else status_of(error)
    response = sdapi_error_response(status, error.code, error.message, error.field)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    if isinstance(error, NotSignedIn):
        # As AUTOMATIC1111 started with --api-auth asks.
        response["WWW-Authenticate"] = 'Basic realm="RollerAI"'
    return response
