"""In a real browser: a PNG dropped onto the generate form fills it in from the settings the PNG
carries (ours, as the worker stores them, or AUTOMATIC1111's), read by the page's own script the
same way the server reads them."""

import base64
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from PIL import Image

from generation.models import DiffusionModel, Generation
from generation.png_parameters import parameters_parse
from generation.samplers import SAMPLERS
from generation.tests.test_png_parameters import AUTOMATIC1111_SAMPLE
from testing.browser import browser_sign_up
from worker.images import image_store

# Drops a file (bytes in base64) onto an element of the page, as a person dragging it would.
DROP = """([selector, data, name, type]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const target = document.querySelector(selector);
  const options = { dataTransfer: transfer, bubbles: true, cancelable: true };
  for (const kind of ["dragenter", "dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(kind, options));
  }
}"""
# What the page's reader makes of a file's bytes.
READ = """async (data) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return window.rollerPngParameters.read(new File([bytes], "x.png", { type: "image/png" }));
}"""
FIELDS = [
    "prompt",
    "negative_prompt",
    "width",
    "height",
    "steps",
    "guidance",
    "seed",
    "sampler",
    "strength",
]


def stored_png(generation: Generation) -> bytes:
    image = Image.new("RGB", (generation.width, generation.height), (90, 40, 160))
    stored = image_store(generation=generation, index=0, image=image, sampler="Euler a")
    with default_storage.open(stored.image_name) as png:
        return png.read()


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def form_values(page: Any) -> dict[str, str]:
    return {name: page.input_value(f"#{name}") for name in FIELDS}


@pytest.mark.browser
def test_dropping_a_png_fills_the_form_with_its_settings(
    transactional_db: None,
    web_server: str,
    tiny_model: DiffusionModel,
    user: User,
    browser_page: Any,
) -> None:
    generation = Generation.objects.create(
        user=user,
        model=tiny_model,
        prompt="a lighthouse,\nat dawn",
        negative_prompt="fog, rain",
        width=64,
        height=96,
        steps=9,
        guidance=6.5,
        seed=77,
        sampler="euler_a",
        kind=Generation.Kind.IMAGE,
        strength=0.45,
        run_token="r1",
    )
    png = stored_png(generation)
    page = browser_page
    browser_sign_up(page, web_server, "erin")

    page.evaluate(DROP, ["#prompt", encoded(png), "settings.png", "image/png"])
    page.wait_for_selector("#png-settings-status[data-state=filled]")

    assert form_values(page) == {
        "prompt": "a lighthouse,\nat dawn",
        "negative_prompt": "fog, rain",
        "width": "64",
        "height": "96",
        "steps": "9",
        "guidance": "6.5",
        "seed": "77",
        "sampler": "euler_a",
        "strength": "0.45",
    }
    assert page.input_value("#model") == "tiny-demo"
    assert page.inner_text("#png-settings-status") == (
        "Filled in from settings.png: model, prompt, negative prompt, width, height, steps, "
        "guidance, seed, sampler, strength."
    )
    assert page.get_attribute("#png-settings-status", "aria-live") == "polite"

    # The page reads a PNG, ours or AUTOMATIC1111's, as the server does.
    chunk = Image.open(io.BytesIO(png)).info["parameters"]
    assert page.evaluate(READ, encoded(png)) == parameters_parse(chunk)
    sample = page.evaluate("(text) => window.rollerPngParameters.parse(text)", AUTOMATIC1111_SAMPLE)
    assert sample == parameters_parse(AUTOMATIC1111_SAMPLE)
    assert page.evaluate("window.rollerPngParameters.SAMPLERS") == SAMPLERS
    # A prompt beyond latin-1 travels in an iTXt chunk.
    generation.prompt = "富士山の夕焼け 🌅"
    assert page.evaluate(READ, encoded(stored_png(generation)))["prompt"] == "富士山の夕焼け 🌅"

    # A PNG with no settings, and a file that is no PNG, change nothing and say so.
    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, format="PNG")
    page.evaluate(DROP, ["#generate-form", encoded(plain.getvalue()), "plain.png", "image/png"])
    page.wait_for_selector("#png-settings-status[data-state=none]")
    assert page.inner_text("#png-settings-status") == "That PNG carries no generation settings."
    page.evaluate(DROP, ["#generate-form", encoded(b"GIF89a"), "cat.gif", "image/gif"])
    page.wait_for_function(
        "() => document.querySelector('#png-settings-status').textContent.includes('not a PNG')"
    )
    assert form_values(page)["prompt"] == "a lighthouse,\nat dawn"
