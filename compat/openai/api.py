"""OpenAI's Images API under /v1/: point any OpenAI SDK's base URL at <site>/v1 and use an API
key of this site. Images are made like any other generation (same checks, charge, refunds,
rate limits; in the gallery), and the answer comes once they are done."""

import base64
import io
import re
import time

from django.http import HttpRequest
from ninja import File, Form, Router
from ninja.files import UploadedFile
from PIL import Image

from accounts.api_auth import ApiKeyAuth
from compat.ninja_api import CompatApi
from compat.openai.errors import PARAMS, openai_domain_error
from compat.openai.schemas import (
    SIZE_PATTERN,
    ImageData,
    ImageGenerationRequest,
    ImagesResponse,
    ModelList,
    ModelObject,
    ResponseFormat,
)
from compat.requests import generation_request
from compat.waiting import Made, image_data_url, images_made
from generation.image_links import image_link_path
from generation.models import DiffusionModel
from generation.png_parameters import parameters_parse
from generation.selectors import models_enabled
from generation.validation import VARIATIONS_STRENGTH
from rollerai.exceptions import InvalidRequest, NotFound, NotSignedIn

# The prompt of a variation whose image carries none (a `parameters` chunk, as this site and
# AUTOMATIC1111 write): image-to-image needs one, and OpenAI's variations take none.
VARIATION_PROMPT = "the same picture"

api = CompatApi(
    title="RollerAI: OpenAI Images API",
    version="1",
    description=(
        "OpenAI's Images API, for the clients made for it: set the base URL to <site>/v1 and "
        "the API key to one made on /accounts/."
    ),
    urls_namespace="openai",
    auth=ApiKeyAuth(),
    refusal=openai_domain_error,
    not_signed_in=NotSignedIn(
        "You didn't provide an API key. Send one made on /accounts/ as "
        "'Authorization: Bearer <key>'.",
        code="invalid_api_key",
    ),
)
router = Router(tags=["OpenAI Images API"])


@router.get("/models", response=ModelList)
def model_list(request: HttpRequest) -> ModelList:
    """The enabled models; their id is what `model` takes."""
    return ModelList(data=[_model_object(model) for model in models_enabled()])


@router.get("/models/{model_id}", response=ModelObject)
def model_detail(request: HttpRequest, model_id: str) -> ModelObject:
    model = models_enabled().filter(slug=model_id).first()
    if model is None:
        raise NotFound(f"The model '{model_id}' does not exist.", code="unknown_model")
    return _model_object(model)


def _model_object(model: DiffusionModel) -> ModelObject:
    return ModelObject(
        id=model.slug, created=int(model.created_at.timestamp()), owned_by="rollerai"
    )


@router.post("/images/generations", response=ImagesResponse)
async def images_generate(request: HttpRequest, payload: ImageGenerationRequest) -> ImagesResponse:
    """Images from a prompt."""
    data = generation_request(
        {
            "prompt": payload.prompt,
            "model": payload.model,
            "count": payload.n,
            **_size(payload.size),
        },
        PARAMS,
    )
    return _answer(request, await images_made(request, data), payload.response_format)


@router.post("/images/edits", response=ImagesResponse)
async def images_edit(
    request: HttpRequest,
    image: File[UploadedFile],
    prompt: Form[str],
    mask: File[UploadedFile | None] = None,
    model: Form[str | None] = None,
    n: Form[int | None] = None,
    size: Form[str | None] = None,
    response_format: Form[ResponseFormat | None] = None,
    strength: Form[float | None] = None,
) -> ImagesResponse:
    """The image made again after the prompt (image-to-image; `strength`, 0.05-1, says how far
    it may move, by default 0.6). Masks (inpainting) are not supported yet."""
    if mask is not None:
        raise InvalidRequest(
            "Masks are not supported yet: send the image alone, and the whole of it is "
            "made again after the prompt.",
            field="mask",
        )
    fields = {
        "prompt": prompt,
        "model": model,
        "count": n,
        "init_image": image_data_url(image.read()),
        "strength": strength,
        **_size(size),
    }
    data = generation_request(fields, PARAMS)
    return _answer(request, await images_made(request, data), response_format)


@router.post("/images/variations", response=ImagesResponse)
async def images_vary(
    request: HttpRequest,
    image: File[UploadedFile],
    model: Form[str | None] = None,
    n: Form[int | None] = None,
    size: Form[str | None] = None,
    response_format: Form[ResponseFormat | None] = None,
) -> ImagesResponse:
    """New images like the one sent: its own prompt when it carries its settings (a PNG from
    this site or AUTOMATIC1111), new seeds, strength 0.5."""
    upload = image.read()
    fields = {
        "prompt": _prompt_in(upload) or VARIATION_PROMPT,
        "model": model,
        "count": n,
        "init_image": image_data_url(upload),
        "strength": VARIATIONS_STRENGTH,
        **_size(size),
    }
    data = generation_request(fields, PARAMS)
    return _answer(request, await images_made(request, data), response_format)


def _size(size: str | None) -> dict[str, int]:
    """ "WxH" as width and height; None or "auto" leave them to the model (or the image)."""
    if size is None or size == "auto":
        return {}
    if not re.fullmatch(SIZE_PATTERN, size):
        raise InvalidRequest("size must be WIDTHxHEIGHT, for example 512x512.", field="size")
    width, height = size.split("x")
    return {"width": int(width), "height": int(height)}


def _prompt_in(upload: bytes) -> str:
    """The prompt in an image's `parameters` chunk, or ""."""
    try:
        with Image.open(io.BytesIO(upload)) as image:
            text = image.info.get("parameters")
    except Exception:  # an upload that is no image is refused by the submit, with a reason
        return ""
    return parameters_parse(text).get("prompt", "") if isinstance(text, str) else ""


def _answer(request: HttpRequest, made: Made, response_format: str | None) -> ImagesResponse:
    prompt = made.generation.prompt
    if response_format == "b64_json":
        data = [
            ImageData(b64_json=base64.b64encode(png).decode(), revised_prompt=prompt)
            for png in made.pngs
        ]
    else:
        data = [
            ImageData(url=request.build_absolute_uri(image_link_path(image)), revised_prompt=prompt)
            for image in made.images
        ]
    return ImagesResponse(created=int(time.time()), data=data)


api.add_router("", router)
