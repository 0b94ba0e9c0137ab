"""Every PNG the worker stores carries its generation's settings in AUTOMATIC1111's
`parameters` chunk, which reads back to those settings."""

import io

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from PIL import Image

from generation.models import DiffusionModel, Generation
from generation.png_parameters import parameters_parse
from worker.images import image_store


def stored_png(generation: Generation, index: int, *, sampler: str) -> bytes:
    image = Image.new("RGB", (generation.width, generation.height), (10, 200, 90))
    stored = image_store(generation=generation, index=index, image=image, sampler=sampler)
    with default_storage.open(stored.image_name) as png:
        return png.read()


def chunk_types(png: bytes) -> list[bytes]:
    types, offset = [], 8
    while offset < len(png):
        length = int.from_bytes(png[offset : offset + 4], "big")
        types.append(png[offset + 4 : offset + 8])
        offset += 12 + length
    return types


def test_a_stored_pngs_parameters_read_back_as_its_generations_settings(
    user: User, tiny_model: DiffusionModel
) -> None:
    generation = Generation.objects.create(
        user=user,
        model=tiny_model,
        prompt="a lighthouse,\nat dawn",
        negative_prompt="fog",
        width=64,
        height=96,
        steps=9,
        guidance=6.5,
        seed=500,
        count=2,
        sampler="unipc",
        kind=Generation.Kind.IMAGE,
        strength=0.75,
        run_token="r1",
    )
    png = stored_png(generation, 1, sampler="UniPC")
    assert b"tEXt" in chunk_types(png)
    parameters = Image.open(io.BytesIO(png)).info["parameters"]
    assert parameters_parse(parameters) == {
        "prompt": "a lighthouse,\nat dawn",
        "negative_prompt": "fog",
        "steps": 9,
        "sampler": "unipc",
        "guidance": 6.5,
        "seed": 501,
        "width": 64,
        "height": 96,
        "model": "Tiny demo",
        "strength": 0.75,
        "other": {},
    }


def test_a_prompt_beyond_latin_1_goes_in_an_international_text_chunk(
    user: User, tiny_model: DiffusionModel
) -> None:
    generation = Generation.objects.create(
        user=user,
        model=tiny_model,
        prompt="富士山の夕焼け 🌅",
        width=64,
        height=64,
        steps=4,
        guidance=7.5,
        seed=3,
        run_token="r2",
    )
    png = stored_png(generation, 0, sampler="DDIM")
    assert b"iTXt" in chunk_types(png) and b"tEXt" not in chunk_types(png)
    parsed = parameters_parse(Image.open(io.BytesIO(png)).info["parameters"])
    assert (parsed["prompt"], parsed["seed"], parsed["sampler"]) == ("富士山の夕焼け 🌅", 3, "ddim")
    assert "strength" not in parsed
