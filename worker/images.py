"""Encoding finished images (PNG original, small WebP thumbnail) and writing them to storage.

Each PNG carries its generation's settings in AUTOMATIC1111's `parameters` text chunk."""

import io

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from generation.models import Generation
from generation.png_parameters import parameters_text
from generation.services import StoredImage

THUMBNAIL_SIDE = 256


class StorageUnavailable(Exception):
    """Storage (S3, or the media folder) refused or could not be reached to save an image."""


def _encoded(image: Image.Image, image_format: str, **options: object) -> "ContentFile[bytes]":
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return ContentFile(buffer.getvalue())


def image_store(
    *, generation: Generation, index: int, image: Image.Image, sampler: str
) -> StoredImage:
    """Store one image under generations/<generation id>/, which reveals nothing about its owner;
    `sampler` is AUTOMATIC1111's label of the sampler that made it.

    The names carry the run, so two runs of one generation (one of them presumed dead) never
    overwrite or delete each other's files.
    """
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    stem = f"generations/{generation.id}/{generation.run_token}-{index}"
    settings = PngInfo()
    # A tEXt chunk, or iTXt when the text is not latin-1 (a prompt in another script).
    settings.add_text("parameters", parameters_text(generation, index=index, sampler=sampler))
    png = _encoded(image, "PNG", pnginfo=settings)
    webp = _encoded(thumbnail, "WEBP", quality=75)
    try:
        image_name = default_storage.save(f"{stem}.png", png)
        thumbnail_name = default_storage.save(f"{stem}.webp", webp)
    except (OSError, BotoCoreError, ClientError) as error:
        raise StorageUnavailable(str(error)) from error
    return StoredImage(
        index=index,
        seed=generation.seed + index,
        width=image.width,
        height=image.height,
        image_name=image_name,
        thumbnail_name=thumbnail_name,
    )


def images_delete(images: list[StoredImage]) -> None:
    for image in images:
        default_storage.delete(image.image_name)
        default_storage.delete(image.thumbnail_name)
