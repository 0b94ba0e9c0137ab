"""Generations as the worker leaves them, made directly in the database and storage."""

from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from generation.models import DiffusionModel, Generation, GenerationImage

PNG_BYTES = b"\x89PNG\r\n\x1a\n fake png"
WEBP_BYTES = b"RIFF\x00\x00\x00\x00WEBP fake"


def generation_make(
    *,
    user: Any,
    model: DiffusionModel,
    prompt: str = "a lighthouse at dawn",
    status: str = "succeeded",
    images: int = 1,
    **fields: Any,
) -> Generation:
    generation = Generation.objects.create(
        user=user,
        model=model,
        prompt=prompt,
        width=64,
        height=64,
        steps=4,
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
            width=64,
            height=64,
            image=default_storage.save(
                f"{folder}/{index}.png", ContentFile(PNG_BYTES + b"%d" % index)
            ),
            thumbnail=default_storage.save(f"{folder}/{index}.webp", ContentFile(WEBP_BYTES)),
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
