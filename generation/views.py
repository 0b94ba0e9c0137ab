"""The generate page and the image files, which only their owner may fetch."""

import uuid

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from generation.models import GenerationImage
from generation.payloads import model_payload
from generation.selectors import generation_page_for_user, models_enabled

RECENT_GENERATIONS = 12


@login_required
def home(request: HttpRequest) -> HttpResponse:
    models = list(models_enabled())
    recent = generation_page_for_user(user=request.user, cursor=None, limit=RECENT_GENERATIONS)
    return render(
        request,
        "generation/home.html",
        {
            "models": models,
            "models_data": [model_payload(model) for model in models],
            "recent": recent.generations,
        },
    )


def image_file(
    request: HttpRequest, generation_id: uuid.UUID, index: int, extension: str
) -> HttpResponseBase:
    image = (
        GenerationImage.objects.filter(
            generation_id=generation_id, index=index, generation__user_id=request.user.pk
        ).first()
        if request.user.is_authenticated
        else None
    )
    if image is None:
        raise Http404("No such image.")
    name = str(image.image.name if extension == "png" else image.thumbnail.name)
    response = FileResponse(
        default_storage.open(name), content_type="image/png" if extension == "png" else "image/webp"
    )
    # Private images must never sit in a shared cache.
    response["Cache-Control"] = "private, max-age=3600"
    return response
