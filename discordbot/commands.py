"""The slash commands, as registered with Discord, and what their options mean here.

Discord checks the ranges declared below before an interaction reaches us; the same request
is still checked by generation's own validation against the chosen model, so a command
registered with older limits can never get past them."""

from typing import Any

from generation.models import DiffusionModel
from generation.schemas import MAX_IMAGES, MAX_PROMPT_LENGTH, MAX_SEED, MIN_SIDE
from generation.selectors import models_enabled

STRING, INTEGER = 3, 4
ASPECTS = ("square", "portrait", "landscape")
LINK_CODE_LENGTH = 8

IMAGINE = {
    "name": "imagine",
    "type": 1,
    "description": "Make images from a prompt",
    "options": [
        {
            "type": STRING,
            "name": "prompt",
            "description": "What to make",
            "required": True,
            "max_length": MAX_PROMPT_LENGTH,
        },
        {
            "type": STRING,
            "name": "negative",
            "description": "What to keep out of it",
            "max_length": MAX_PROMPT_LENGTH,
        },
        {
            "type": STRING,
            "name": "model",
            "description": "Which model (by default the site's first)",
            "autocomplete": True,
        },
        {
            "type": STRING,
            "name": "aspect",
            "description": "The image's shape (square by default)",
            "choices": [{"name": aspect, "value": aspect} for aspect in ASPECTS],
        },
        {"type": INTEGER, "name": "steps", "description": "Sampling steps", "min_value": 1},
        {
            "type": INTEGER,
            "name": "seed",
            "description": "The same seed and prompt make the same image",
            "min_value": 0,
            "max_value": MAX_SEED,
        },
        {
            "type": INTEGER,
            "name": "count",
            "description": f"How many images (1-{MAX_IMAGES})",
            "min_value": 1,
            "max_value": MAX_IMAGES,
        },
    ],
}
CREDITS = {"name": "credits", "type": 1, "description": "Your credit balance (only you see it)"}
LINK = {
    "name": "link",
    "type": 1,
    "description": "Use your account on the site from Discord",
    "options": [
        {
            "type": STRING,
            "name": "code",
            "description": "The code shown on your account page",
            "required": True,
            "min_length": LINK_CODE_LENGTH,
            "max_length": LINK_CODE_LENGTH,
        }
    ],
}
COMMANDS = [IMAGINE, CREDITS, LINK]
# Discord shows at most 25 suggestions.
MAX_SUGGESTIONS = 25


def options_of(data: dict[str, Any]) -> dict[str, Any]:
    """A command's options by name."""
    return {
        option["name"]: option.get("value")
        for option in data.get("options") or []
        if isinstance(option, dict) and "name" in option
    }


def model_suggestions(typed: str) -> list[dict[str, str]]:
    """Autocomplete for the model option: the enabled models whose name or slug contains what
    has been typed so far."""
    typed = typed.strip().lower()
    return [
        {"name": _model_label(model), "value": model.slug}
        for model in models_enabled()
        if typed in model.name.lower() or typed in model.slug
    ][:MAX_SUGGESTIONS]


def _model_label(model: DiffusionModel) -> str:
    credits = model.credits_per_image
    return f"{model.name} ({credits} credit{'' if credits == 1 else 's'} an image)"[:100]


def aspect_size(model: DiffusionModel, aspect: str | None) -> tuple[int | None, int | None]:
    """(width, height) for a shape: square is the model's default size; portrait and landscape
    keep its default side as the short one and make the long one a third longer (3:4), within
    the model's limits. None: the model's defaults."""
    if aspect not in ("portrait", "landscape"):
        return None, None
    short = max(MIN_SIDE, min(model.default_width, model.default_height))
    long_side = short * 4 // 3 // 8 * 8
    if aspect == "portrait":
        return short, min(long_side, model.max_height)
    return min(long_side, model.max_width), short


def imagine_request(options: dict[str, Any], model: DiffusionModel | None) -> dict[str, Any]:
    """The API's request fields for /imagine's options (`model` is the chosen one, looked up
    so its sizes are known; None if there is none)."""
    width, height = aspect_size(model, options.get("aspect")) if model else (None, None)
    fields = {
        "prompt": options.get("prompt"),
        "negative_prompt": options.get("negative"),
        "model": model.slug if model else options.get("model"),
        "width": width,
        "height": height,
        "steps": options.get("steps"),
        "seed": options.get("seed"),
        "count": options.get("count"),
    }
    return {name: value for name, value in fields.items() if value is not None}
