"""Links to one image that work without signing in, for a while: for clients of the compatible
APIs, which ask for a URL of each image (OpenAI's response_format "url") and fetch it without
a session, as presigned S3 links are fetched."""

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from generation.models import GenerationImage
from rollerai.exceptions import NotFound

_SALT = "generation.image-link"


def image_link_path(image: GenerationImage) -> str:
    token = signing.dumps([str(image.generation_id), image.index], salt=_SALT)
    return reverse("generation-image-link", args=[token])


def image_link_open(token: str) -> GenerationImage:
    """The image a link names, while the link is younger than IMAGE_LINK_SECONDS."""
    try:
        generation_id, index = _loads(token)
        return GenerationImage.objects.get(generation_id=generation_id, index=index)
    except (signing.BadSignature, GenerationImage.DoesNotExist, ValueError, TypeError):
        raise NotFound("This image link is unknown or has expired.")


def _loads(token: str) -> Any:
    return signing.loads(token, salt=_SALT, max_age=settings.IMAGE_LINK_SECONDS)
