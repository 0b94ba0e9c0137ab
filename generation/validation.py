"""What a generation request may ask of its model: the checks that need the model (which one,
its sizes, steps and guidance) or another generation (an init image of this site, variations and
upscales of one). Everything else about a request is checked once, by its schema
(generation.schemas.GenerationRequest)."""

import math
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from PIL import Image

from generation.init_images import data_url_decode, init_png, side_from_image, stored_image_open
from generation.models import DiffusionModel, Generation, GenerationImage
from generation.samplers import sampler_fits, sampler_misfit_message
from generation.schemas import (
    DEFAULT_STRENGTH,
    MAX_SEED,
    MAX_STRENGTH,
    MIN_SIDE,
    MIN_STRENGTH,
    GenerationRequest,
    ImageReference,
)
from generation.selectors import image_for_viewer
from rollerai.exceptions import InvalidRequest

# The strengths of the shorthands: variations stay near their image, an upscale nearer still.
VARIATIONS_STRENGTH = 0.5
UPSCALE_STRENGTH = 0.3


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
    kind: str = Generation.Kind.TEXT
    sampler: str = ""
    strength: float | None = None
    # The PNG the worker starts from (at width x height), and the image of this site it was
    # made from, if it was.
    init_png: bytes | None = None
    source_image: GenerationImage | None = None

    @property
    def cost(self) -> int:
        return self.count * self.model.credits_for(self.kind)


def generation_request_validate(data: GenerationRequest, *, user: Any) -> CheckedRequest:
    """Check a parsed request against the chosen model (and an init image against what `user`
    may see)."""
    model = _model(data.model)
    strength = _strength(data.strength, with_init_image=data.init_image is not None)
    # Asked for before the image is decoded, so that a mistake here costs no decoding.
    width = _side("width", data.width, default=0, maximum=model.max_width)
    height = _side("height", data.height, default=0, maximum=model.max_height)
    steps = _within("steps", data.steps, default=model.default_steps, maximum=model.max_steps)
    guidance = _guidance(data.guidance, model)
    sampler = _sampler(data.sampler or "", model)
    init: Image.Image | None = None
    source: GenerationImage | None = None
    if isinstance(data.init_image, ImageReference):
        source = _image_for_user(user, data.init_image.generation, data.init_image.index)
        init = stored_image_open(source)
    elif data.init_image is not None:
        init = data_url_decode(
            data.init_image, max_width=model.max_width, max_height=model.max_height
        )
    if strength is not None:
        _steps_that_run_check(steps, strength)
    if init is not None:
        # Sides not asked for are the image's own.
        width = width or side_from_image(init.width, maximum=model.max_width)
        height = height or side_from_image(init.height, maximum=model.max_height)
    width, height = width or model.default_width, height or model.default_height
    return CheckedRequest(
        model=model,
        prompt=data.prompt,
        negative_prompt=data.negative_prompt or "",
        width=width,
        height=height,
        steps=steps,
        guidance=guidance,
        # A seed is always recorded so that every image can be reproduced or remixed later.
        seed=_random_seed() if data.seed is None else data.seed,
        count=1 if data.count is None else data.count,
        kind=Generation.Kind.TEXT if init is None else Generation.Kind.IMAGE,
        sampler=sampler,
        strength=strength,
        init_png=None if init is None else init_png(init, width=width, height=height),
        source_image=source,
    )


def variations_request_validate(
    *, user: Any, generation_id: UUID, index: int, count: int
) -> CheckedRequest:
    """New images like one of the user's own (or a public) generation's: its settings, a new
    seed, starting from that image."""
    image = _image_for_user(user, generation_id, index)
    source = image.generation
    return _derived_request(
        source,
        image=image,
        kind=Generation.Kind.VARIATIONS,
        width=source.width,
        height=source.height,
        seed=_random_seed(),
        count=count,
        strength=VARIATIONS_STRENGTH,
    )


def upscale_request_validate(*, user: Any, generation_id: UUID, index: int) -> CheckedRequest:
    """One of the user's own (or a public) generation's images at twice its size (as far as its
    model goes, keeping its shape): its settings and seed, starting from the image enlarged."""
    image = _image_for_user(user, generation_id, index)
    source = image.generation
    model = source.model
    if not image_upscalable(image):
        raise InvalidRequest(
            f"This image is already as large as {model.name} makes them "
            f"({model.max_width}x{model.max_height}).",
            code="cannot_upscale",
        )
    width, height = upscale_size(
        image.width, image.height, max_width=model.max_width, max_height=model.max_height
    )
    return _derived_request(
        source,
        image=image,
        kind=Generation.Kind.UPSCALE,
        width=width,
        height=height,
        seed=image.seed,
        count=1,
        strength=UPSCALE_STRENGTH,
    )


def image_upscalable(image: GenerationImage) -> bool:
    """Whether upscaling an image would make it any larger: not at its model's largest size."""
    model = image.generation.model
    width, height = upscale_size(
        image.width, image.height, max_width=model.max_width, max_height=model.max_height
    )
    return width > image.width or height > image.height


def upscale_size(width: int, height: int, *, max_width: int, max_height: int) -> tuple[int, int]:
    """Twice the size, or less where the model's limits say so, keeping the shape; multiples
    of 8."""
    factor = min(2.0, max_width / width, max_height / height)
    return (
        max(MIN_SIDE, int(width * factor) // 8 * 8),
        max(MIN_SIDE, int(height * factor) // 8 * 8),
    )


def _derived_request(
    source: Generation,
    *,
    image: GenerationImage,
    kind: str,
    width: int,
    height: int,
    seed: int,
    count: int,
    strength: float,
) -> CheckedRequest:
    if not DiffusionModel.objects.filter(id=source.model_id, enabled=True).exists():
        raise InvalidRequest(
            f"The model of that image ({source.model.name}) is not available any more.",
            code="unknown_model",
            field="model",
        )
    return CheckedRequest(
        model=source.model,
        prompt=source.prompt,
        negative_prompt=source.negative_prompt,
        width=width,
        height=height,
        # Image-to-image runs steps x strength of them: a few-step source still gets one.
        steps=min(max(source.steps, math.ceil(1 / strength)), source.model.max_steps),
        guidance=source.guidance,
        seed=seed,
        count=count,
        kind=kind,
        sampler=source.sampler,
        strength=strength,
        init_png=init_png(stored_image_open(image), width=width, height=height),
        source_image=image,
    )


def _steps_that_run_check(steps: int, strength: float) -> None:
    """Starting from an image, sampling runs int(steps x strength) of the steps (diffusers):
    at least one must run."""
    if int(steps * strength) < 1:
        raise InvalidRequest(
            f"With {steps} step{'' if steps == 1 else 's'}, strength must be at least "
            f"{math.ceil(100 / steps) / 100:g}: at least one step has to run.",
            code="no_steps_would_run",
            field="strength",
        )


def _image_for_user(user: Any, generation_id: UUID, index: int) -> GenerationImage:
    # Another user's private image is missing, like one that does not exist (a 404).
    return image_for_viewer(user=user, generation_id=generation_id, index=index)


def _random_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


def _strength(value: float | None, *, with_init_image: bool) -> float | None:
    if not with_init_image:
        if value is not None:
            raise InvalidRequest(
                "Strength applies only when starting from an image: send init_image too.",
                code="strength_without_init_image",
                field="strength",
            )
        return None
    if value is None:
        return DEFAULT_STRENGTH
    if not MIN_STRENGTH <= value <= MAX_STRENGTH:
        raise InvalidRequest(
            f"Strength must be between {MIN_STRENGTH:g} and {MAX_STRENGTH:g}.",
            code="out_of_range",
            field="strength",
        )
    return float(value)


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


def _sampler(name: str, model: DiffusionModel) -> str:
    if not sampler_fits(name, few_step=model.few_step):
        raise InvalidRequest(
            sampler_misfit_message(name, model_name=model.name),
            code="sampler_not_for_model",
            field="sampler",
        )
    return name


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
