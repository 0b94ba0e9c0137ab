"""A generation's settings as AUTOMATIC1111 writes them into its PNGs (the `parameters` text
chunk), so that our images open in its "PNG Info" tab and in other tools that read it, and the
settings of such a PNG (ours or AUTOMATIC1111's) can be read back.

The format: the prompt (any number of lines); then, if there is one, the negative prompt on
lines after "Negative prompt: "; then one line of "Key: value" settings joined by ", ", where a
value holding a comma, a colon or a newline is written as a JSON string.
"""

import json
import re
from typing import TypedDict

from generation.models import Generation
from generation.samplers import SAMPLERS

NEGATIVE_PROMPT = "Negative prompt:"
# One setting of the last line, as AUTOMATIC1111 reads them (modules/infotext_utils.py).
SETTING = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
SIZE = re.compile(r"(\d+)x(\d+)")
# Fewer settings than this on the last line and it is part of a prompt, as AUTOMATIC1111 has it.
SETTINGS_AT_LEAST = 3
# "Default" is how our PNGs said "the model's own scheduler" before they named it.
SAMPLER_NAMES = {label.lower(): name for name, label in SAMPLERS.items()} | {"default": ""}


class PngParameters(TypedDict, total=False):
    """What a `parameters` text says; only the settings it has (and could be read) are there.

    `sampler` is one of generation.samplers.SAMPLERS when its label is ours ("" for "Default":
    the model's own), else the label as written. `other` holds every other setting as text
    (AUTOMATIC1111 writes many: "Model hash", "Clip skip", "Lora hashes", "Version", ...).
    """

    prompt: str
    negative_prompt: str
    steps: int
    sampler: str
    guidance: float
    seed: int
    width: int
    height: int
    model: str
    strength: float
    other: dict[str, str]


def parameters_text(generation: Generation, *, sampler: str, index: int = 0) -> str:
    """The `parameters` text of image `index` of a generation (it has seed + index), made with
    the sampler AUTOMATIC1111 labels `sampler` (which only the worker knows when neither the
    generation nor its model names one: the pipeline's own scheduler)."""
    lines = [generation.prompt]
    if generation.negative_prompt:
        lines.append(f"{NEGATIVE_PROMPT} {generation.negative_prompt}")
    settings = {
        "Steps": str(generation.steps),
        "Sampler": sampler,
        "CFG scale": _number(generation.guidance),
        "Seed": str(generation.seed + index),
        "Size": f"{generation.width}x{generation.height}",
        "Model": generation.model.name,
    }
    if generation.kind != Generation.Kind.TEXT and generation.strength is not None:
        settings["Denoising strength"] = _number(generation.strength)
    lines.append(", ".join(f"{key}: {_quoted(value)}" for key, value in settings.items()))
    return "\n".join(lines)


def parameters_parse(text: str) -> PngParameters:
    """The settings in a `parameters` text, as AUTOMATIC1111 (or `parameters_text`) writes it."""
    *lines, last = text.replace("\r\n", "\n").strip().split("\n")
    if len(SETTING.findall(last)) < SETTINGS_AT_LEAST:
        lines.append(last)
        last = ""
    prompt: list[str] = []
    negative: list[str] = []
    for line in lines:
        line = line.strip()
        if not negative and line.startswith(NEGATIVE_PROMPT):
            line = line.removeprefix(NEGATIVE_PROMPT).strip()
            negative.append(line)
        elif negative:
            negative.append(line)
        else:
            prompt.append(line)
    parsed = PngParameters(prompt="\n".join(prompt), negative_prompt="\n".join(negative))
    settings = {key.strip(): _unquoted(value.strip()) for key, value in SETTING.findall(last)}
    _settings_read(settings, parsed)
    return parsed


def _settings_read(settings: dict[str, str], parsed: PngParameters) -> None:
    """Moves the settings we know from `settings` into `parsed`, and the rest into `other`."""
    if (steps := _int(settings.pop("Steps", None))) is not None:
        parsed["steps"] = steps
    if (seed := _int(settings.pop("Seed", None))) is not None:
        parsed["seed"] = seed
    if (guidance := _float(settings.pop("CFG scale", None))) is not None:
        parsed["guidance"] = guidance
    if (strength := _float(settings.pop("Denoising strength", None))) is not None:
        parsed["strength"] = strength
    if size := SIZE.fullmatch(settings.get("Size", "")):
        del settings["Size"]
        parsed["width"], parsed["height"] = int(size[1]), int(size[2])
    if "Model" in settings:
        parsed["model"] = settings.pop("Model")
    if "Sampler" in settings:
        label = settings.pop("Sampler")
        # Since its version 1.9 AUTOMATIC1111 writes "DPM++ 2M" with "Schedule type: Karras"
        # for what was "DPM++ 2M Karras".
        schedule = settings.get("Schedule type", "")
        if f"{label} {schedule}".lower() in SAMPLER_NAMES:
            label = f"{label} {settings.pop('Schedule type')}"
        parsed["sampler"] = SAMPLER_NAMES.get(label.lower(), label)
    parsed["other"] = settings


def _quoted(value: str) -> str:
    """A value as AUTOMATIC1111 writes it: as is, unless it would break the settings line."""
    if "," in value or ":" in value or "\n" in value:
        return json.dumps(value, ensure_ascii=False)
    return value


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            unquoted = json.loads(value)
        except ValueError:
            return value
        if isinstance(unquoted, str):
            return unquoted
    return value


def _number(value: float) -> str:
    """7.0 as "7", 7.5 as "7.5", as AUTOMATIC1111's settings read."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    # "nan" and "inf" parse as floats but are no setting anyone made.
    return number if number is None or abs(number) < float("inf") else None
