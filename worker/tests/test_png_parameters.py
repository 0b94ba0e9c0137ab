"""Every PNG the worker stores carries its generation's settings in AUTOMATIC1111's
`parameters` chunk, which reads back to those settings, with our reader and with one written
here to AUTOMATIC1111's own parsing rules."""

import io
import json
import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from PIL import Image

from generation.models import DiffusionModel, Generation
from generation.png_parameters import parameters_parse
from testing.generations import generation_queued, init_image_stored
from worker.images import image_store
from worker.pipelines import PipelineCache
from worker.runner import generation_run
from worker.state import WorkerState

# AUTOMATIC1111's reading of a `parameters` text (modules/infotext_utils.py,
# parse_generation_parameters), written out from its rules rather than taken from ours: the
# last line holds the settings when it has at least three "key: value" pairs (a value may be a
# quoted JSON string); the lines before are the prompt, until one that starts with
# "Negative prompt:", which with the lines after it is the negative prompt. "WxH" values are
# split into "<key>-1" and "<key>-2".
A1111_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
A1111_IMAGE_SIZE = re.compile(r"^(\d+)x(\d+)$")


def a1111_unquote(text: str) -> str:
    if len(text) == 0 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        return str(json.loads(text))
    except ValueError:
        return text


def a1111_parse_generation_parameters(text: str) -> dict[str, str]:
    result: dict[str, str] = {}
    prompt = ""
    negative_prompt = ""
    done_with_prompt = False
    *lines, last_line = text.strip().split("\n")
    if len(A1111_PARAM.findall(last_line)) < 3:
        lines.append(last_line)
        last_line = ""
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            done_with_prompt = True
            line = line[16:].strip()
        if done_with_prompt:
            negative_prompt += ("" if negative_prompt == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line
    result["Prompt"] = prompt
    result["Negative prompt"] = negative_prompt
    for key, value in A1111_PARAM.findall(last_line):
        if value and value[0] == '"' and value[-1] == '"':
            value = a1111_unquote(value)
        size = A1111_IMAGE_SIZE.match(value)
        if size is not None:
            result[f"{key}-1"], result[f"{key}-2"] = size[1], size[2]
        else:
            result[key] = value
    return result


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


def test_automatic1111s_own_reading_of_a_png_the_worker_made_gives_back_every_setting(
    user: User, tiny_model: DiffusionModel, tiny_model_folder: Path
) -> None:
    # A name and prompts with commas, colons and newlines, which the line must quote.
    tiny_model.name = "Tiny demo, v2: small"
    tiny_model.save()
    generation = generation_queued(
        user,
        tiny_model,
        prompt="a lighthouse, at dawn\nstormy sea: waves",
        negative_prompt="blurry,\nlow quality",
        kind=Generation.Kind.IMAGE,
        init_image=init_image_stored(96, 64, color=(40, 160, 90)),
        strength=0.75,
        sampler="euler_a",
        width=96,
        height=64,
        steps=8,
        guidance=6.5,
        seed=90210,
        count=2,
    )
    generation_run(
        generation_id=str(generation.id),
        pipelines=PipelineCache(capacity=1, device="cpu"),
        state=WorkerState(name="png-parameters", models=[tiny_model.slug], batch_size=1),
        events_per_second=settings.PROGRESS_EVENTS_PER_SECOND,
        preview_interval=settings.PREVIEW_INTERVAL_SECONDS,
    )

    generation.refresh_from_db()
    assert generation.status == "succeeded", generation.error
    with default_storage.open(generation.images.get(index=1).image.name) as png:
        parameters = Image.open(io.BytesIO(png.read())).info["parameters"]
    assert a1111_parse_generation_parameters(parameters) == {
        "Prompt": "a lighthouse, at dawn\nstormy sea: waves",
        "Negative prompt": "blurry,\nlow quality",
        "Steps": "8",
        "Sampler": "Euler a",
        "CFG scale": "6.5",
        # The second image's own seed.
        "Seed": "90211",
        "Size-1": "96",
        "Size-2": "64",
        "Model": "Tiny demo, v2: small",
        "Denoising strength": "0.75",
    }
