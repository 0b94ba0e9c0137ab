"""The generate page and the image files: their owner may always fetch them, anybody else only
while the generation is public."""

import logging
import uuid
from typing import cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.text import slugify
from redis.exceptions import RedisError
from storages.backends.s3 import S3Storage

from generation.fleet import workers_live
from generation.image_links import image_link_open
from generation.models import DiffusionModel, GenerationImage
from generation.samplers import FEW_STEP_SAMPLERS, SAMPLERS
from generation.schemas import Model
from generation.selectors import (
    generation_page_for_user,
    image_for_viewer,
    init_image_for_owner,
    models_enabled,
    remix_form_values,
)
from rollerai.auth import signed_in_user
from rollerai.exceptions import NotFound

log = logging.getLogger(__name__)

RECENT_GENERATIONS = 12
# The shapes the generate page offers, as width:height; each maps to a size of the chosen model.
ASPECT_RATIOS = ["1:1", "3:4", "4:3", "9:16", "16:9"]
DOWNLOAD_SLUG_LENGTH = 40


@login_required
def home(request: HttpRequest) -> HttpResponse:
    models = list(models_enabled())
    recent = generation_page_for_user(user=request.user, cursor=None, limit=RECENT_GENERATIONS)
    remix_id = request.GET.get("remix")
    gpu_ready = _gpu_ready(models)
    return render(
        request,
        "generation/home.html",
        {
            "models": models,
            "model_options": [(model, gpu_ready[model.slug]) for model in models],
            "models_data": [
                {**Model.model_validate(model).model_dump(), "gpu_ready": gpu_ready[model.slug]}
                for model in models
            ],
            "recent": recent.generations,
            "samplers": [
                (name, label, name in FEW_STEP_SAMPLERS) for name, label in SAMPLERS.items()
            ],
            "aspect_ratios": ASPECT_RATIOS,
            "remix": remix_form_values(
                user=signed_in_user(request),
                generation_id=remix_id,
                same_seed=request.GET.get("same_seed") == "1",
            )
            if remix_id
            else None,
        },
    )


def _gpu_ready(models: list[DiffusionModel]) -> dict[str, bool]:
    """Whether a GPU is warm for each model, read once per page load for the picker. The page
    needs only the database: while Redis is down every model says a GPU starts on demand."""
    try:
        # One read of the heartbeats for all models, rather than one per model.
        served = {slug for worker in workers_live() for slug in worker.models}
        return {model.slug: model.slug in served for model in models}
    except RedisError:
        log.warning("Redis is unreachable: the generate page cannot say which GPUs are warm")
        return {model.slug: False for model in models}


def download_name(image: GenerationImage) -> str:
    """rollerai-<the prompt's first words>-<seed>.png: recognisable in a downloads folder."""
    slug = slugify(image.generation.prompt)
    if len(slug) > DOWNLOAD_SLUG_LENGTH:
        cut = slug[: DOWNLOAD_SLUG_LENGTH + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut[:DOWNLOAD_SLUG_LENGTH]
    return f"rollerai-{slug or 'image'}-{image.seed}.png"


def image_file(
    request: HttpRequest, generation_id: uuid.UUID, index: int, extension: str
) -> HttpResponseBase:
    try:
        image = image_for_viewer(user=request.user, generation_id=generation_id, index=index)
    except NotFound:
        raise Http404("No such image.")
    name = str(image.image.name if extension == "png" else image.thumbnail.name)
    download = extension == "png" and request.GET.get("download") == "1"
    return stored_file(
        name,
        content_type="image/png" if extension == "png" else "image/webp",
        download_name=download_name(image) if download else "",
    )


def image_link_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """An image through a signed link (generation.image_links), for whoever holds the link."""
    try:
        image = image_link_open(token)
    except NotFound:
        raise Http404("This image link is unknown or has expired.")
    return stored_file(str(image.image.name), content_type="image/png")


def init_image_file(request: HttpRequest, generation_id: uuid.UUID) -> HttpResponseBase:
    """The image a generation started from, as the worker got it; for its owner only."""
    try:
        generation = init_image_for_owner(user=request.user, generation_id=generation_id)
    except NotFound:
        raise Http404("No such image.")
    return stored_file(str(generation.init_image.name), content_type="image/png")


def stored_file(name: str, *, content_type: str, download_name: str = "") -> HttpResponseBase:
    """A file from storage, for a viewer who was checked; `download_name` makes it a download."""
    if isinstance(default_storage, S3Storage):
        # The presigned URL is made only now, after the check above, and lives for minutes;
        # the redirect may be cached for half that, so a cached one never points at a dead URL.
        parameters = (
            {"ResponseContentDisposition": f'attachment; filename="{download_name}"'}
            if download_name
            else None
        )
        response: HttpResponseBase = HttpResponseRedirect(
            cast(S3Storage, default_storage).url(name, parameters=parameters)
        )
        response["Cache-Control"] = f"private, max-age={settings.AWS_QUERYSTRING_EXPIRE // 2}"
        return response
    response = FileResponse(
        default_storage.open(name),
        content_type=content_type,
        as_attachment=bool(download_name),
        filename=download_name,
    )
    # Never in a shared cache: an image made private again must stop being served at once.
    response["Cache-Control"] = "private, max-age=3600"
    return response
