"""Queued generations made straight in the database and put on the real queue, for settings the
API does not take (yet) or that a test wants exactly, and the images they start from."""

import io
import uuid
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from generation.models import DiffusionModel, Generation
from generation.queues import generation_enqueue


def generation_queued(user: User, model: DiffusionModel, **fields: Any) -> Generation:
    """A queued generation of the tiny model's defaults (or `fields`), with its job waiting."""
    settings: dict[str, Any] = {
        "prompt": "a lighthouse at dawn",
        "width": 64,
        "height": 64,
        "steps": 4,
        "guidance": 7.5,
        "seed": 1234,
        "count": 1,
        **fields,
    }
    generation = Generation.objects.create(user=user, model=model, **settings)
    generation_enqueue(generation)
    return generation


def init_image_stored(width: int, height: int, *, color: tuple[int, int, int]) -> str:
    """The storage name of a PNG to start from, as the web tier stores one: at the size of its
    generation. A gradient over `color`, so that two of them differ everywhere."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.blend(image, Image.new("RGB", (width, height), color), 0.5)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return default_storage.save(
        f"init-images/{uuid.uuid4().hex}.png", ContentFile(buffer.getvalue())
    )


def generation_finish_with_images(generation: Generation) -> None:
    """Take a queued generation through a run to succeeded, as a worker would, with plain PNGs
    of its size in storage."""
    from generation.services import StoredImage, generation_start, generation_succeed

    running = generation_start(generation_id=generation.id, worker_name="test-worker")
    assert running is not None
    stored = []
    for index in range(generation.count):
        png = io.BytesIO()
        Image.new("RGB", (generation.width, generation.height), "orange").save(png, "PNG")
        name = default_storage.save(
            f"test/{generation.id}-{index}.png", ContentFile(png.getvalue())
        )
        seed = generation.seed + index
        stored.append(StoredImage(index, seed, generation.width, generation.height, name, name))
    assert generation_succeed(generation=running, images=stored)
