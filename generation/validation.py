"""What a generation request may ask of its model: the checks that need the model (which one,
its sizes, steps and guidance). Everything else about a request is checked once, by its schema
(generation.schemas.GenerationRequest)."""

import secrets
from dataclasses import dataclass

from generation.models import DiffusionModel
from generation.schemas import MAX_SEED, MIN_SIDE, GenerationRequest
from rollerai.exceptions import InvalidRequest


@dataclass(frozen=True)
class CheckedRequest:
    """A request its model can run, every default filled in."""

    model: DiffusionModel
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    count: int


def generation_request_validate(data: GenerationRequest) -> CheckedRequest:
    """Check a parsed request against the chosen model."""
    model = _model(data.model)
    return CheckedRequest(
        model=model,
        prompt=data.prompt,
        negative_prompt=data.negative_prompt or "",
        width=_side("width", data.width, default=model.default_width, maximum=model.max_width),
        height=_side("height", data.height, default=model.default_height, maximum=model.max_height),
        steps=_within("steps", data.steps, default=model.default_steps, maximum=model.max_steps),
        guidance=_guidance(data.guidance, model),
        # A seed is always recorded so that every image can be reproduced or remixed later.
        seed=secrets.randbelow(MAX_SEED + 1) if data.seed is None else data.seed,
        count=1 if data.count is None else data.count,
    )


def _model(slug: str | None) -> DiffusionModel:
    enabled = DiffusionModel.objects.filter(enabled=True)
    if slug is None:
        model = enabled.order_by("created_at", "id").first()
        if model is None:
            raise InvalidRequest(
                "No model is available right now.", code="no_models", field="model"
            )
        return model
    model = enabled.filter(slug=slug).first()
    if model is None:
        raise InvalidRequest(f"Unknown model '{slug}'.", code="unknown_model", field="model")
    return model


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def _within(field: str, value: int | None, *, default: int, maximum: int, minimum: int = 1) -> int:
    if value is None:
        return default
    if not minimum <= value <= maximum:
        raise InvalidRequest(
            f"{_label(field)} must be between {minimum} and {maximum}.",
            code="out_of_range",
            field=field,
        )
    return value


def _side(field: str, value: int | None, *, default: int, maximum: int) -> int:
    side = _within(field, value, default=default, minimum=MIN_SIDE, maximum=maximum)
    if side % 8:
        raise InvalidRequest(
            f"{_label(field)} must be a multiple of 8.", code="not_multiple_of_8", field=field
        )
    return side


def _guidance(value: float | None, model: DiffusionModel) -> float:
    if value is None:
        return model.default_guidance
    if not 0 <= value <= model.max_guidance:
        raise InvalidRequest(
            f"Guidance must be between 0 and {model.max_guidance:g}.",
            code="out_of_range",
            field="guidance",
        )
    return float(value)
