"""Generations as the worker leaves them, made directly in the database and storage."""

import io
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from generation.models import DiffusionModel, Generation, GenerationImage

PNG_BYTES = b"\x89PNG\r\n\x1a\n fake png"
WEBP_BYTES = b"RIFF\x00\x00\x00\x00WEBP fake"


def picture_bytes(width: int, height: int, *, format: str = "PNG", index: int = 0) -> bytes:
    """A real image file: a gradient, so that resizing it changes its pixels."""
    picture = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    picture.putpixel((0, 0), (index * 40 % 256, 0, 0))
    out = io.BytesIO()
    picture.save(out, format=format)
    return out.getvalue()


def generation_make(
    *,
    user: Any,
    model: DiffusionModel,
    prompt: str = "a lighthouse at dawn",
    status: str = "succeeded",
    images: int = 1,
    size: tuple[int, int] = (64, 64),
    pictures: bool = False,
    **fields: Any,
) -> Generation:
    """`pictures`: real PNGs of `size` (image-to-image reads them); otherwise a few bytes that
    only look like one."""
    width, height = size
    generation = Generation.objects.create(
        user=user,
        model=model,
        prompt=prompt,
        width=width,
        height=height,
        steps=fields.pop("steps", 4),
        guidance=7.5,
        seed=fields.pop("seed", 1234),
        count=max(images, 1),
        status=status,
        credits_charged=max(images, 1),
        **fields,
    )
    folder = f"generations/{generation.id}"
    for index in range(images if status == "succeeded" else 0):
        GenerationImage.objects.create(
            generation=generation,
            index=index,
            seed=generation.seed + index,
            width=width,
            height=height,
            image=default_storage.save(
                f"{folder}/{index}.png",
                ContentFile(
                    picture_bytes(width, height, index=index)
                    if pictures
                    else PNG_BYTES + b"%d" % index
                ),
            ),
            thumbnail=default_storage.save(
                f"{folder}/{index}.webp",
                ContentFile(
                    picture_bytes(width, height, format="WEBP", index=index)
                    if pictures
                    else WEBP_BYTES
                ),
            ),
        )
    return generation


def generations_bulk_make(
    *,
    user: Any,
    model: DiffusionModel,
    count: int,
    prompt: str = "bulk {n}",
    status: str = "succeeded",
) -> list[Generation]:
    """Many generations in a few queries, each with one image row (no files behind them)."""
    generations = Generation.objects.bulk_create(
        Generation(
            user=user,
            model=model,
            prompt=prompt.format(n=n),
            width=64,
            height=64,
            steps=4,
            guidance=7.5,
            seed=n,
            status=status,
        )
        for n in range(count)
    )
    GenerationImage.objects.bulk_create(
        GenerationImage(
            generation=generation,
            index=0,
            seed=generation.seed,
            width=64,
            height=64,
            image=f"generations/{generation.id}/0.png",
            thumbnail=f"generations/{generation.id}/0.webp",
        )
        for generation in generations
    )
    return generations
