"""What a generation request may ask of a model: every field checked, with a message per mistake."""

import math
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from generation.models import DiffusionModel
from rollerai.exceptions import InvalidRequest

MAX_PROMPT_LENGTH = 1000
MIN_SIDE = 64
MAX_IMAGES = 4
MAX_SEED = 2**32 - 1
FIELDS = {
    "prompt",
    "negative_prompt",
    "model",
    "width",
    "height",
    "steps",
    "guidance",
    "seed",
    "count",
}


@dataclass(frozen=True)
class GenerationRequest:
    model: DiffusionModel
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    count: int


def generation_request_validate(data: Any) -> GenerationRequest:
    """Turn untrusted input (a decoded JSON object) into a request the chosen model can run."""
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_body")
    for name in data:
        if name not in FIELDS:
            raise InvalidRequest(f"Unknown field '{name}'.", code="unknown_field", field=name)

    prompt = _text(data, "prompt", required=True)
    model = _model(data.get("model"))
    width = _side(data, "width", default=model.default_width, maximum=model.max_width)
    height = _side(data, "height", default=model.default_height, maximum=model.max_height)
    steps = _integer(data, "steps", default=model.default_steps, minimum=1, maximum=model.max_steps)
    count = _integer(data, "count", default=1, minimum=1, maximum=MAX_IMAGES)
    seed = _integer(data, "seed", default=None, minimum=0, maximum=MAX_SEED)
    return GenerationRequest(
        model=model,
        prompt=prompt,
        negative_prompt=_text(data, "negative_prompt", required=False),
        width=width,
        height=height,
        steps=steps,
        guidance=_guidance(data, model),
        # A seed is always recorded so that every image can be reproduced or remixed later.
        seed=secrets.randbelow(MAX_SEED + 1) if seed is None else seed,
        count=count,
    )


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def _text(data: dict[str, Any], field: str, *, required: bool) -> str:
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidRequest(f"{_label(field)} must be text.", code="not_text", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidRequest(f"{_label(field)} is required.", code="required", field=field)
    if len(value) > MAX_PROMPT_LENGTH:
        raise InvalidRequest(
            f"{_label(field)} must be at most {MAX_PROMPT_LENGTH} characters "
            f"(it has {len(value)}).",
            code="too_long",
            field=field,
        )
    if any(unicodedata.category(character) == "Cc" for character in value):
        raise InvalidRequest(
            f"{_label(field)} must not contain control characters such as line breaks or tabs.",
            code="control_characters",
            field=field,
        )
    return value


def _model(slug: Any) -> DiffusionModel:
    enabled = DiffusionModel.objects.filter(enabled=True)
    if slug is None:
        model = enabled.order_by("created_at", "id").first()
        if model is None:
            raise InvalidRequest(
                "No model is available right now.", code="no_models", field="model"
            )
        return model
    model = enabled.filter(slug=slug).first() if isinstance(slug, str) else None
    if model is None:
        raise InvalidRequest(f"Unknown model '{slug}'.", code="unknown_model", field="model")
    return model


def _integer(
    data: dict[str, Any], field: str, *, default: int | None, minimum: int, maximum: int
) -> Any:
    value = data.get(field)
    if value is None:
        return default
    # JSON true/false decode to Python bools, which are ints; they are not numbers here.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(
            f"{_label(field)} must be a whole number.", code="not_an_integer", field=field
        )
    if not minimum <= value <= maximum:
        raise InvalidRequest(
            f"{_label(field)} must be between {minimum} and {maximum}.",
            code="out_of_range",
            field=field,
        )
    return value


def _side(data: dict[str, Any], field: str, *, default: int, maximum: int) -> int:
    value: int = _integer(data, field, default=default, minimum=MIN_SIDE, maximum=maximum)
    if value % 8:
        raise InvalidRequest(
            f"{_label(field)} must be a multiple of 8.", code="not_multiple_of_8", field=field
        )
    return value


def _guidance(data: dict[str, Any], model: DiffusionModel) -> float:
    value = data.get("guidance")
    if value is None:
        return model.default_guidance
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequest("Guidance must be a number.", code="not_a_number", field="guidance")
    if not 0 <= value <= model.max_guidance:
        raise InvalidRequest(
            f"Guidance must be between 0 and {model.max_guidance:g}.",
            code="out_of_range",
            field="guidance",
        )
    return float(value)
